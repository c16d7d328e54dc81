"""The container entrypoint, run outside Docker as a subprocess, and the facts the Docker files must keep."""

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parent.parent.parent
ENTRYPOINT = BASE_DIR / "bin" / "docker-entrypoint.sh"
TIMEOUT = 120
UNREACHABLE_DATABASE_URL = "postgres://postgres@127.0.0.1:1/nope"


def entrypoint_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """A clean environment, so that nothing configured on this machine leaks in; this interpreter's python first."""
    env = {
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""),
        "HOME": str(data_dir),
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
        "SECRET_KEY": "test-entrypoint-not-secret",
    }
    env.update(overrides)
    return env


def run_entrypoint(data_dir: Path, *command: str, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ENTRYPOINT), *command],
        cwd=BASE_DIR,
        env=entrypoint_env(data_dir, **overrides),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def sqlite_tables(path: Path) -> set[str]:
    if not path.exists():
        return set()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs of the Dockerfile, continuation lines joined, comments dropped."""
    instructions, pending = [], ""
    for raw in (BASE_DIR / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, arguments = (pending + line).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def test_entrypoint_is_an_executable_posix_shell_script():
    assert os.access(ENTRYPOINT, os.X_OK)
    lines = ENTRYPOINT.read_text().splitlines()
    assert lines[0] == "#!/bin/sh"
    assert "set -eu" in lines
    assert 'exec "$@"' in lines


def test_entrypoint_migrates_then_runs_the_command(tmp_path):
    result = run_entrypoint(tmp_path, "python", "-c", "print('started')")

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout.splitlines()
    tables = sqlite_tables(tmp_path / "db.sqlite3")
    assert {"django_migrations", "accounts_user"} <= tables
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        assert conn.execute("SELECT COUNT(*) FROM django_migrations").fetchone()[0] > 0


def test_entrypoint_passes_the_command_exit_status_through(tmp_path):
    result = run_entrypoint(tmp_path, "sh", "-c", "exit 3")

    assert result.returncode == 3, result.stderr
    assert "accounts_user" in sqlite_tables(tmp_path / "db.sqlite3")


def test_entrypoint_replaces_itself_with_the_command(tmp_path):
    # The command keeps the script's process id, so in a container gunicorn is PID 1 and receives SIGTERM itself.
    process = subprocess.Popen(
        [str(ENTRYPOINT), "python", "-c", "import os; print(os.getpid())"],
        cwd=BASE_DIR,
        env=entrypoint_env(tmp_path, MIGRATE_ON_START="false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    finally:
        process.kill()

    assert process.returncode == 0, stderr
    assert stdout.strip() == str(process.pid)


def test_entrypoint_skips_migrations_when_migrate_on_start_is_false(tmp_path):
    result = run_entrypoint(tmp_path, "python", "-c", "print('started')", MIGRATE_ON_START="false")

    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout.splitlines()
    assert sqlite_tables(tmp_path / "db.sqlite3") == set()


def test_entrypoint_gives_up_on_an_unreachable_database_without_running_the_command(tmp_path):
    result = run_entrypoint(
        tmp_path,
        "python",
        "-c",
        "print('started')",
        DATABASE_URL=UNREACHABLE_DATABASE_URL,
        MIGRATE_RETRIES="2",
    )

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "waiting for the database (attempt 1 of 2)" in result.stderr
    assert "database unavailable after 2 attempt(s)" in result.stderr


def test_entrypoint_refuses_a_malformed_retry_count(tmp_path):
    result = run_entrypoint(tmp_path, "python", "-c", "print('started')", MIGRATE_RETRIES="soon")

    assert result.returncode != 0
    assert "started" not in result.stdout
    assert "MIGRATE_RETRIES must be a positive integer" in result.stderr


def test_dockerfile_builds_a_non_root_image_that_starts_through_the_entrypoint():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _ in instructions]
    arguments = dict(reversed(instructions))  # The first occurrence of each instruction.
    last = dict(instructions)  # The last occurrence, the one Docker applies.

    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert keywords.count("FROM") == 1
    assert last["USER"] not in {"", "root", "0", "0:0"}
    assert json.loads(last["ENTRYPOINT"]) == ["/app/bin/docker-entrypoint.sh"]
    assert json.loads(last["CMD"]) == ["gunicorn", "--config", "gunicorn.conf.py"]
    assert "EXPOSE" in keywords and arguments["EXPOSE"] == "8000"
    assert "/health" in last["HEALTHCHECK"] and "urllib" in last["HEALTHCHECK"]

    runs = [args for keyword, args in instructions if keyword == "RUN"]
    install = next(index for index, args in enumerate(instructions) if "pip install" in args[1])
    assert "requirements.txt" in instructions[install][1]
    assert not any("requirements-dev" in args for args in runs)
    copy_code = instructions.index(("COPY", ". ."))
    assert install < copy_code, "dependencies must install before the code is copied, for the layer cache"
    assert any("collectstatic --noinput" in args for args in runs)

    env_lines = " ".join(args for keyword, args in instructions if keyword in {"ENV", "ARG"})
    assert "SECRET_KEY" not in env_lines
    for name in ("PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", "DATA_DIR=/app/var", "HOST=0.0.0.0", "PORT=8000"):
        assert name in env_lines


def test_dockerignore_keeps_local_state_and_secrets_out_of_the_build_context():
    patterns = {line.strip() for line in (BASE_DIR / ".dockerignore").read_text().splitlines()}

    assert {".git", ".venv", "var", "staticfiles", ".env"} <= patterns


def test_compose_starts_the_api_once_the_database_is_healthy():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())

    assert "version" not in compose
    db, api = compose["services"]["db"], compose["services"]["api"]
    assert db["image"] == "postgres:16"
    assert "pg_isready -U registry -d registry" in " ".join(db["healthcheck"]["test"])
    assert "pgdata" in compose["volumes"]
    assert api["depends_on"]["db"] == {"condition": "service_healthy"}
    assert api["build"] == "."
    assert "@db:5432/registry" in api["environment"]["DATABASE_URL"]
    assert api["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert api["environment"]["DEBUG"] == "false"


def test_compose_runs_a_worker_from_the_same_image_once_the_api_is_healthy():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())

    api, worker = compose["services"]["api"], compose["services"]["worker"]
    assert worker["build"] == api["build"] == "."
    assert worker["command"] == ["python", "manage.py", "qcluster"]
    assert worker["depends_on"] == {"api": {"condition": "service_healthy"}}
    assert worker["environment"]["DATABASE_URL"] == api["environment"]["DATABASE_URL"]
    assert worker["environment"]["SECRET_KEY"] == api["environment"]["SECRET_KEY"]
    assert worker["environment"]["MIGRATE_ON_START"] == "false"
    assert worker["healthcheck"] == {"disable": True}
    for name in ("ARTIFACTS_URL", "ARTIFACTS_S3_ENDPOINT_URL"):
        assert worker["environment"][name] == api["environment"][name]


def test_compose_passes_every_variable_of_dot_env_to_both_containers():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())

    for name in ("api", "worker"):
        assert compose["services"][name]["env_file"] == [{"path": ".env", "required": False}], name
    # What .env may say about where to listen is the host's; inside the container the service listens everywhere.
    assert compose["services"]["api"]["environment"]["HOST"] == "0.0.0.0"


def test_compose_publishes_the_api_on_the_loopback_interface_by_default():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())

    assert compose["services"]["api"]["ports"] == ["${REGISTRY_BIND:-127.0.0.1}:${REGISTRY_PORT:-8000}:8000"]
    for name in ("db", "artifacts", "worker"):
        assert "ports" not in compose["services"][name], name


def test_compose_keeps_artifacts_in_its_s3_store():
    compose = yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())

    store, api = compose["services"]["artifacts"], compose["services"]["api"]
    assert store["image"].startswith("chrislusf/seaweedfs")
    assert "-bucket=registry-artifacts" in store["command"]
    assert "artifacts" in compose["volumes"]
    assert api["environment"]["ARTIFACTS_URL"] == "${ARTIFACTS_URL:-s3://registry-artifacts}"
    assert api["environment"]["ARTIFACTS_S3_ENDPOINT_URL"] == "${ARTIFACTS_S3_ENDPOINT_URL:-http://artifacts:8333}"


def test_the_tls_proxy_of_the_compose_file_forwards_to_the_api():
    compose_text = (BASE_DIR / "docker-compose.yml").read_text()
    caddyfile = (BASE_DIR / "deploy" / "Caddyfile").read_text()

    assert "#     - ./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in compose_text
    assert "{$REGISTRY_HOST} {" in caddyfile
    assert "reverse_proxy api:8000" in caddyfile


def test_entrypoint_migrate_creates_the_reminder_schedule(tmp_path):
    result = run_entrypoint(tmp_path, "python", "-c", "print('started')", REMINDER_INTERVAL_MINUTES="3")

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        rows = conn.execute("SELECT func, schedule_type, minutes FROM django_q_schedule").fetchall()
    assert rows == [("projects.tasks.expiration_reminders_run", "I", 3)]
