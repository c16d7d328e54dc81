"""The service's environment: the real environment first, then a `.env` file beside manage.py for what it leaves out.

Shared by the settings and by gunicorn's configuration, so that every variable in the README's table is read the same
way by both, `.env` included.
"""

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


class _SetVariables(Mapping):
    """The process environment, without the variables set to nothing: `DATABASE_URL=` (as `.env.example` has it)
    means "use the default", for every variable."""

    def __getitem__(self, key: str) -> str:
        value = os.environ[key]
        if not value.strip():
            raise KeyError(key)
        return value

    def __iter__(self) -> Iterator[str]:
        return (key for key, value in os.environ.items() if value.strip())

    def __len__(self) -> int:
        return sum(1 for _ in self)


class Env(environ.Env):
    """django-environ, reading an empty variable as an unset one."""

    ENVIRON = _SetVariables()


class _DotEnv(environ.Env):
    ENVIRON: dict[str, str] = {}


# A local .env (git-ignored) fills in the variables that the environment leaves unset or empty.
if (BASE_DIR / ".env").is_file():
    _DotEnv.read_env(BASE_DIR / ".env")
    for _name, _value in _DotEnv.ENVIRON.items():
        if not os.environ.get(_name, "").strip():
            os.environ[_name] = _value

env = Env()


def project_path(value: str) -> Path:
    """A path from the environment; a relative one is taken from the project folder, wherever the command runs."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else BASE_DIR / path
