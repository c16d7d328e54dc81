"""The README's quick start and the docs' commands, run as written against a live Registry with a task worker.

Every shell and Python block of README.md and docs/*.md runs, in the order it is written, one bash script a page: a
Python block whose first line names a file (`# train.py`) is saved under that name, any other runs as it stands. Each
page gets a fresh server, `REGISTRY` pointing at it, and the full MLflow client's virtualenv first on PATH (so `pip
install mlflow-skinny` finds it there, and `python` is its interpreter). `curl` fails on any answer of 400 and up, so
a command that the service refuses stops the page. The blocks that cannot run here are listed in NOT_RUN, with why
and where the same steps are tested; an entry that matches no block fails the test, so the list cannot go stale.
"""

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import requests

from systemtests.harness import PROJECT_ROOT, login, register
from systemtests.test_artifacts import personal_access_token
from systemtests.test_models import mlflow_full_python  # noqa: F401  (a fixture)

PAGE_TIMEOUT = 600
MAIL_WAIT_SECONDS = 30

# (page, how the block's first line starts): why it is not run here, and where the same steps are.
NOT_RUN = {
    ("README.md", "make run "): (
        "the test serves Registry itself, with gunicorn as `make run` starts it, on a free port; `make run`'s own "
        "start is registry/tests/test_serve.py, and `make test` is CI"
    ),
    ("docs/api.md", "curl -s -X POST $REGISTRY/auth/password/reset "): (
        "the token comes by mail; the same steps: accounts/tests/test_seed_accounts.py"
    ),
    ("docs/api.md", "curl -s -X POST $REGISTRY/auth/email "): (
        "the token comes by mail; the same steps: accounts/tests/test_email_change.py"
    ),
    ("docs/mlflow.md", "aws s3 sync "): (
        "needs the AWS CLI and a bucket; the S3 store itself: systemtests/test_artifacts.py on SeaweedFS"
    ),
    ("docs/operations.md", "cp .env.example .env "): (
        "Docker does not run here; the entrypoint and the compose file: registry/tests/test_entrypoint.py"
    ),
    ("docs/development.md", "(cd /tmp && npm install playwright-core)"): (
        "installs from npm; the same pages in a browser: systemtests/test_ui.py"
    ),
}

FENCE = re.compile(r"^(?P<indent> *)```(?P<language>\w*)\n(?P<body>.*?)^(?P=indent)```$", re.MULTILINE | re.DOTALL)
PROLOGUE = """set -euo pipefail
curl() { command curl --fail-with-body "$@"; }
"""


def blocks(page: str) -> list[tuple[str, str]]:
    """The page's shell and Python blocks, in order: (language, text without the fence's indent)."""
    text = (PROJECT_ROOT / page).read_text()
    found = []
    for match in FENCE.finditer(text):
        if match["language"] in ("sh", "python"):
            indent = len(match["indent"])
            found.append((match["language"], "".join(line[indent:] for line in match["body"].splitlines(True))))
    return found


def not_run(page: str, body: str) -> tuple[str, str] | None:
    """The NOT_RUN entry of this block, if any."""
    first = body.splitlines()[0]
    return next((key for key in NOT_RUN if key[0] == page and first.startswith(key[1])), None)


def script(page: str) -> str:
    """The page's blocks as one bash script, leaving out the NOT_RUN ones."""
    parts = [PROLOGUE]
    for language, body in blocks(page):
        if not_run(page, body):
            continue
        if language == "sh":
            parts.append(body)
        elif (name := re.fullmatch(r"# ([\w.-]+\.py)", body.splitlines()[0])) is not None:
            parts.append(f"cat > {name[1]} <<'PYTHON'\n{body}PYTHON\n")
        else:
            parts.append(f"python - <<'PYTHON'\n{body}PYTHON\n")
    return "\n".join(parts)


def pages() -> list[str]:
    return ["README.md", *sorted(str(path.relative_to(PROJECT_ROOT)) for path in (PROJECT_ROOT / "docs").glob("*.md"))]


def run_page(page: str, python: Path, port: int, workdir: Path, **env) -> subprocess.CompletedProcess:
    environment = {
        "PATH": f"{python.parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(workdir),
        "MPLCONFIGDIR": str(workdir / "matplotlib"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "REGISTRY": f"http://127.0.0.1:{port}",
        **env,
    }
    return subprocess.run(
        ["bash", "-c", script(page)],
        cwd=workdir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT,
    )


def signed_in(port: int, username: str, password: str) -> requests.Session:
    """A browser's session after the web UI's sign-in form."""
    session = requests.Session()
    url = f"http://127.0.0.1:{port}/ui/signin"
    session.get(url, timeout=30).raise_for_status()
    answer = session.post(
        url,
        data={"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": url},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:500]
    return session


def test_every_block_not_run_is_on_its_page_and_says_why():
    matched = {not_run(page, body) for page in pages() for _, body in blocks(page)}
    assert sorted(set(NOT_RUN) - matched) == []
    assert all(reason for reason in NOT_RUN.values())


def test_the_quick_start_works_as_written(mlflow_full_python, start_server, tmp_path):  # noqa: F811
    server = start_server(None, workers=1)
    done = run_page("README.md", mlflow_full_python, server.port, tmp_path)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert (tmp_path / "train.py").exists()

    # 2: the welcome mail is kept under the data directory, as the quick start says.
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while not any("Welcome to Registry" in path.read_text() for path in (server.data_dir / "mail").glob("*")):
        assert time.monotonic() < deadline, "no welcome mail in the data directory's mail folder"
        time.sleep(0.5)

    # 6: alice sees the two runs on the project's page.
    alice = signed_in(server.port, "alice", "correct-horse-battery")
    projects = alice.get(f"http://127.0.0.1:{server.port}/ui/", timeout=30).text
    (project,) = re.findall(r'<a href="/ui/projects/(\d+)">quickstart</a>', projects)
    runs = alice.get(f"http://127.0.0.1:{server.port}/ui/projects/{project}", timeout=30).text
    assert "lr-0.1" in runs and "lr-0.01" in runs

    # 7: bob accepts on his invitations page and finds the project among his.
    bob = signed_in(server.port, "bob", "staple-battery-horse")
    invitations = bob.get(f"http://127.0.0.1:{server.port}/ui/invitations", timeout=30).text
    (accept,) = re.findall(r'<form method="post" action="(/ui/invitations/\d+/accept)">', invitations)
    answer = bob.post(
        f"http://127.0.0.1:{server.port}{accept}",
        data={"csrfmiddlewaretoken": bob.cookies["csrftoken"]},
        headers={"Referer": f"http://127.0.0.1:{server.port}/ui/invitations"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302
    assert ">quickstart</a>" in bob.get(f"http://127.0.0.1:{server.port}/ui/", timeout=30).text


def runnable_pages() -> list[str]:
    """The docs' pages (the README aside) with a block to run."""
    return [
        page for page in pages() if page != "README.md" and any(not not_run(page, body) for _, body in blocks(page))
    ]


@pytest.mark.parametrize("page", runnable_pages())
def test_each_page_of_the_docs_runs_as_written(page, mlflow_full_python, start_server, tmp_path):  # noqa: F811
    server = start_server(None)
    env = {}
    if page != "docs/api.md":  # The API's tour registers alice itself; the other pages take the quick start's accounts.
        register(server.port, "alice", password="correct-horse-battery")
        register(server.port, "bob", password="staple-battery-horse")
        env["PAT"] = personal_access_token(
            server.port, login(server.port, "alice", password="correct-horse-battery")["access"]
        )
    done = run_page(page, mlflow_full_python, server.port, tmp_path, **env)
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
