import os

import psycopg
import pytest
import redis

from systemtests.harness import HangingMailServer, MailSink, Postgres, Server, unavailable


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    # Kept on the test item, so that the `start_server` teardown knows whether to print the servers' logs.
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def postgres() -> Postgres:
    """The PostgreSQL server (PG_HOST, PG_PORT, PG_USER); a test that needs it skips when it does not answer."""
    server = Postgres.from_env()
    try:
        with server.connect():
            pass
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        unavailable(f"PostgreSQL does not answer at {server.host}:{server.port} as {server.user}: {detail}")
    return server


@pytest.fixture
def redis_url():
    """REDIS_URL (default redis://127.0.0.1:6379/15), emptied before and after the test."""
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis does not answer at {url}: {exc}")
    client.flushdb()
    yield url
    client.flushdb()
    client.close()


@pytest.fixture
def start_server(request, tmp_path_factory):
    """Start a gunicorn server: `start_server(postgres, **env)` on a fresh PostgreSQL database, or
    `start_server(None, **env)` on the default SQLite file in a fresh data directory. `workers=N` starts N task
    workers beside it; `share=other` starts a second instance of `other`: its database and secret key, a port and data
    directory of its own.

    Every server is stopped, and its database dropped, when the test ends; a failed test prints the servers' logs.
    """
    started: list[tuple[Server, Postgres | None]] = []

    def start(database: Postgres | None, *, workers: int = 0, share: Server | None = None, **env) -> Server:
        data_dir = tmp_path_factory.mktemp("server")
        if share is not None:
            server = Server(data_dir=data_dir, database_url=share.database_url, **env)
            server.secret_key = share.secret_key
            database = None  # Dropped with the server it belongs to.
        elif database is None:
            server = Server(data_dir=data_dir, **env)
        else:
            name = database.create_database()
            server = Server(data_dir=data_dir, database_url=database.url(name), database_name=name, **env)
        started.append((server, database))
        server.start()
        for _ in range(workers):
            server.start_worker()
        return server

    yield start

    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    failed = any(report is not None and report.failed for report in reports)
    errors = []
    for server, database in reversed(started):
        try:
            code = server.stop()
            if failed or code not in (0, None):
                print(f"\n---- gunicorn on port {server.port} exited with {code}; log tail:\n{server.log_tail()}")
            if failed:
                for worker in server.workers:
                    print(f"\n---- task worker of the server on port {server.port}; log tail:\n{worker.log_tail()}")
        except Exception as exc:  # Every server gets its turn to stop, whatever happened to the one before.
            errors.append(f"stopping the server on port {server.port}: {exc!r}")
        if database is not None and server.database_name:
            try:
                database.drop_database(server.database_name)
            except psycopg.Error as exc:
                errors.append(f"dropping {server.database_name}: {exc!r}")
    if errors:
        pytest.fail("cleanup failed: " + "; ".join(errors), pytrace=False)


@pytest.fixture
def mail_sink():
    """A local SMTP server that keeps what it receives."""
    sink = MailSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def hanging_mail_server():
    """A local SMTP port that accepts connections and never answers; `.stop()` frees the port for a `MailSink`."""
    server = HangingMailServer().start()
    yield server
    server.stop()
