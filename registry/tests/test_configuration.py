"""Configuration as documented: empty variables mean their default, `.env` is read by the service and by gunicorn,
relative paths are taken from the project folder, local state is private, and docs/configuration.md and .env.example
agree."""

import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from registry.env import BASE_DIR

SETTINGS_PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'registry.settings'; django.setup(); "
    "from django.conf import settings as s; "
    "print(s.DATABASES['default']['NAME'], s.CACHES['default']['BACKEND'], s.DATA_DIR, s.EMAIL_BACKEND, sep='\\n')"
)


def _run(code: str, *, cwd: Path, **env) -> list[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**environment, "PYTHONPATH": str(BASE_DIR), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_empty_variables_mean_their_defaults(tmp_path):
    data = tmp_path / "data"
    empty = {name: "" for name in ["DATABASE_URL", "CACHE_URL", "EMAIL_URL", "SECRET_KEY", "AUTH_THROTTLE_RATE"]}
    lines = _run(SETTINGS_PROBE, cwd=tmp_path, DATA_DIR=str(data), **empty)
    assert lines == [
        str(data / "db.sqlite3"),
        "django.core.cache.backends.db.DatabaseCache",
        str(data),
        "common.mail.FolderEmailBackend",
    ]


def test_a_relative_data_dir_is_taken_from_the_project_folder(tmp_path):
    name = f"var-test-{os.getpid()}"
    try:
        lines = _run(SETTINGS_PROBE, cwd=tmp_path, DATA_DIR=name, DATABASE_URL="", CACHE_URL="")
        assert lines[2] == str(BASE_DIR / name)
        assert not (tmp_path / name).exists()
    finally:
        shutil.rmtree(BASE_DIR / name, ignore_errors=True)


def test_local_state_is_private_to_the_service_user(tmp_path):
    data = tmp_path / "state"
    _run(
        SETTINGS_PROBE + "; from django.db import connection; connection.ensure_connection()",
        cwd=tmp_path,
        DATA_DIR=str(data),
        DATABASE_URL="",
        SECRET_KEY="",
    )
    modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in [data, *data.iterdir()]}
    assert modes["state"] == 0o700
    assert modes["db.sqlite3"] == 0o600
    assert modes["secret_key"] == 0o600


def test_a_dot_env_file_is_read_by_the_service_and_by_gunicorn(tmp_path):
    # A copy of the two modules that read the environment, in a folder of its own with its own .env.
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry" / "__init__.py").write_text("")
    shutil.copy(BASE_DIR / "registry" / "env.py", tmp_path / "registry" / "env.py")
    shutil.copy(BASE_DIR / "gunicorn.conf.py", tmp_path / "gunicorn.conf.py")
    (tmp_path / ".env").write_text("PORT=8502\nHOST=0.0.0.0\nWEB_CONCURRENCY=3\nLOG_LEVEL=\n")
    code = (
        "import runpy; config = runpy.run_path('gunicorn.conf.py'); "
        "print(config['bind'], config['workers'], config['loglevel'])"
    )
    environment = {key: "" for key in ["PORT", "HOST", "WEB_CONCURRENCY", "LOG_LEVEL"]}
    assert _run(code, cwd=tmp_path, PYTHONPATH=str(tmp_path), **environment) == ["0.0.0.0:8502 3 info"]


def _readme_variables() -> dict[str, str]:
    table = (BASE_DIR / "docs" / "configuration.md").read_text()
    variables = {}
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[0]):
                variables[name] = cells[1]
    return variables


def _example_variables() -> dict[str, str]:
    lines = (BASE_DIR / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_readme_and_env_example_list_the_same_variables():
    assert sorted(_readme_variables()) == sorted(_example_variables())


@pytest.mark.parametrize("name", sorted(_example_variables()))
def test_env_example_values_are_the_documented_defaults(name):
    value = _example_variables()[name]
    default = _readme_variables()[name]
    # An empty value in .env.example means "the default", whatever docs/configuration.md says it is.
    assert value == "" or f"`{value}`" in default, f"{name}={value} but docs/configuration.md says {default}"


LINKS_PROBE = (
    "import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'registry.settings'; django.setup(); "
    "from django.conf import settings; print(settings.SITE_URL); print(settings.PASSWORD_RESET_URL); "
    "print(settings.EMAIL_CONFIRM_URL)"
)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        (
            {"PORT": "8123"},
            [
                "http://127.0.0.1:8123",
                "http://127.0.0.1:8123/ui/password/reset",
                "http://127.0.0.1:8123/ui/email/confirm",
            ],
        ),
        (
            {"HOST": "0.0.0.0", "PORT": "9000"},
            [
                "http://127.0.0.1:9000",
                "http://127.0.0.1:9000/ui/password/reset",
                "http://127.0.0.1:9000/ui/email/confirm",
            ],
        ),
        (
            {"SITE_URL": "https://registry.example.com/"},
            [
                "https://registry.example.com",
                "https://registry.example.com/ui/password/reset",
                "https://registry.example.com/ui/email/confirm",
            ],
        ),
        (
            {"SITE_URL": "https://registry.example.com", "PASSWORD_RESET_URL": "https://app.example.com/reset"},
            [
                "https://registry.example.com",
                "https://app.example.com/reset",
                "https://registry.example.com/ui/email/confirm",
            ],
        ),
    ],
)
def test_the_links_in_mail_lead_where_the_service_listens_unless_told_otherwise(tmp_path, environment, expected):
    base = {
        "DATA_DIR": str(tmp_path),
        "HOST": "",
        "PORT": "",
        "SITE_URL": "",
        "PASSWORD_RESET_URL": "",
        "EMAIL_CONFIRM_URL": "",
    }
    assert _run(LINKS_PROBE, cwd=tmp_path, **{**base, **environment}) == expected
