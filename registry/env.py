"""The service's environment: the real environment first, then a `.env` file beside manage.py for what it leaves out.

Shared by the settings and by gunicorn's configuration, so that every variable in docs/configuration.md is read the same
way by both, `.env` included.
"""

import os
import secrets
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


def private_folder(path: Path) -> Path:
    """Make `path` (and its parents) and keep it private to the service's user (0700): it holds the embedded database,
    with its password hashes, and the secret key."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(0o700)
    return path


def private_file(name: str) -> None:
    """Make the SQLite file `name` private (0600) before SQLite would create it with the umask's 0644; its -wal and
    -shm files take the same mode. A file from an older version is made private too."""
    if not name or name == ":memory:" or name.startswith("file:"):
        return
    try:
        os.close(os.open(name, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(name, 0o600)
    except OSError:  # A folder that does not exist, or a file of another user: SQLite will say so itself.
        pass


def local_secret_key(folder: Path) -> str:
    """The key kept in `folder`, created (mode 0600) on first use so that restarts keep tokens valid."""
    path = folder / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    key = secrets.token_urlsafe(64)
    try:
        # O_EXCL: when several workers start at once, exactly one of them writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
