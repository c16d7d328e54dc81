"""The model registry beside MLflow's own server: searches and alias resolution at 1,000 and at 100,000 versions.

`make bench-mlflow` runs this after bench/mlflow_bench.py. For each backend (SQLite, then PostgreSQL when it answers)
it starts MLflow's server and Registry, one worker process each, and loads both with the same registry: models named
`model-00000`, `model-00001`, ..., VERSIONS_PER_MODEL versions each, the alias `champion` on each model's last
version. The rows are written with SQL into each server's own tables (MLflow's through its schema, Registry's
through its models in `manage.py shell`): the REST API would take hours for 100,000 versions, and what is timed is
reading them. First 100 models (1,000 versions), then 9,900 more (100,000 versions in all), the same calls timed at
each size, turn about between the servers (median of BENCH_REPEAT), each answer of the same size at both sizes:

- `registered-models/search` with `name LIKE 'model-0004%'` (10 models), as `search_registered_models` sends it;
- `model-versions/search` with `name = 'model-00042'` (10 versions), as `search_model_versions` sends it;
- `registered-models/alias` of `model-00042` and `champion`, which `load_model("models:/model-00042@champion")`
  calls to find the version;
- `registered-models/get` of `model-00042`.

It prints both servers' medians with their ratio, and each server's time at 100,000 versions over its time at 1,000.
Settings (environment): BENCH_REGISTRY_MODELS (the sizes in models, default "100,10000"), BENCH_REPEAT (default 15),
BENCH_BACKENDS (default "sqlite,postgres"), PG_HOST, PG_PORT, PG_USER (as the system tests).
"""

import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mlflow_bench import (  # noqa: E402
    REPEAT,
    Client,
    _tail,
    each_backend,
    settle,
    start_mlflow,
    stop_all,
    two_servers,
)
from systemtests.harness import Postgres, register_and_login  # noqa: E402
from systemtests.test_artifacts import personal_access_token  # noqa: E402

VERSIONS_PER_MODEL = 10
# Models, each with VERSIONS_PER_MODEL versions: the sizes timed, in the order they are loaded.
SIZES = [int(size) for size in os.environ.get("BENCH_REGISTRY_MODELS", "100,10000").split(",")]
SOURCE = "mlflow-artifacts:/1/models/m-{index:032x}/artifacts"
CALLS = {
    "search models": ("registered-models/search", "filter=name+LIKE+%27model-0004%25%27&max_results=100"),
    "search versions": ("model-versions/search", "filter=name%3D%27model-00042%27&max_results=100"),
    "alias": ("registered-models/alias", "name=model-00042&alias=champion"),
    "get model": ("registered-models/get", "name=model-00042"),
}
LABELS = {
    "search models": "registered-models/search, name LIKE (10 models)",
    "search versions": "model-versions/search, one name (10 versions)",
    "alias": "registered-models/alias (@champion)",
    "get model": "registered-models/get",
}
# Registry's rows, made in the server's own process environment: the bench user's project, its models, versions and
# aliases, in batches. `%(start)d` and `%(stop)d` bound the models made.
REGISTRY_SEED = """
from django.utils import timezone
from accounts.models import User
from projects.models import Project
from modelregistry.models import ModelVersion, RegisteredModel, RegisteredModelAlias

user = User.objects.get(username="bench")
project, _ = Project.objects.get_or_create(owner=user, name="models")
now = timezone.now()
for first in range(%(start)d, %(stop)d, 1000):
    names = range(first, min(first + 1000, %(stop)d))
    models = RegisteredModel.objects.bulk_create(
        [RegisteredModel(project=project, name=f"model-{i:05d}", creator=user, last_version=%(versions)d)
         for i in names]
    )
    versions = ModelVersion.objects.bulk_create(
        [
            ModelVersion(
                registered_model=model, version=v, creator=user, source=%(source)r.format(index=i * 100 + v),
                storage_location=%(source)r.format(index=i * 100 + v), model_id=f"m-{i * 100 + v:032x}",
            )
            for i, model in zip(names, models) for v in range(1, %(versions)d + 1)
        ],
        batch_size=5000,
    )
    last = {version.registered_model_id: version for version in versions if version.version == %(versions)d}
    RegisteredModelAlias.objects.bulk_create(
        [RegisteredModelAlias(registered_model=model, alias="champion", model_version=last[model.pk], set_by=user,
                              set_at=now) for model in models]
    )
"""


def mlflow_rows(start: int, stop: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
    """MLflow's rows for the models `start` to `stop`: registered_models, model_versions, registered_model_aliases."""
    now = int(time.time() * 1000)
    models, versions, aliases = [], [], []
    for i in range(start, stop):
        name = f"model-{i:05d}"
        models.append((name, now, now, ""))
        for v in range(1, VERSIONS_PER_MODEL + 1):
            source = SOURCE.format(index=i * 100 + v)
            versions.append((name, v, now, now, "", "bench", "None", source, source, "", "", "READY", ""))
        aliases.append((name, "champion", VERSIONS_PER_MODEL))
    return models, versions, aliases


MLFLOW_INSERTS = [
    "INSERT INTO registered_models (name, creation_time, last_updated_time, description) VALUES ({})",
    "INSERT INTO model_versions (name, version, creation_time, last_updated_time, description, user_id, "
    "current_stage, source, storage_location, run_id, run_link, status, status_message) VALUES ({})",
    "INSERT INTO registered_model_aliases (name, alias, version) VALUES ({})",
]


def seed_mlflow(backend: str, target, start: int, stop: int) -> None:
    """MLflow's rows, in its own tables (made by its server's start), through SQLite or PostgreSQL."""
    tables = mlflow_rows(start, stop)
    if backend == "sqlite":
        with sqlite3.connect(target) as connection:
            for statement, rows in zip(MLFLOW_INSERTS, tables, strict=True):
                connection.executemany(statement.format(", ".join("?" * len(rows[0]))), rows)
        return
    postgres, dbname = target
    with postgres.connect(dbname) as connection, connection.cursor() as cursor:
        for statement, rows in zip(MLFLOW_INSERTS, tables, strict=True):
            cursor.executemany(statement.format(", ".join(["%s"] * len(rows[0]))), rows)


def measure(clients: dict[str, Client]) -> dict[str, dict[str, float]]:
    """Median seconds of each call on each server, the servers called turn about; each answer checked."""
    timings = {name: {call: [] for call in CALLS} for name in clients}
    for _ in range(REPEAT):
        for name, client in clients.items():
            for call, (path, query) in CALLS.items():
                answer, elapsed = client.call("GET", path, query=query)
                expected = {"search models": ("registered_models", 10), "search versions": ("model_versions", 10)}
                if call in expected:
                    key, count = expected[call]
                    assert len(answer.get(key, [])) == count, f"{name} {call}: {len(answer.get(key, []))} rows"
                timings[name][call].append(elapsed)
    return {name: {call: statistics.median(v) for call, v in calls.items()} for name, calls in timings.items()}


def bench_backend(backend: str, venv: Path, postgres: Postgres | None) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-registry-{backend}-"))
    (workdir / "registry").mkdir()
    databases, mlflow_process, registry = [], None, None
    try:
        registry, mlflow_uri, databases = two_servers(backend, postgres, workdir)
        mlflow_target = (postgres, databases[1]) if databases else workdir / "mlflow.sqlite3"
        mlflow_process, mlflow_port = start_mlflow(venv, mlflow_uri, workdir)
        registry.start()
        token = personal_access_token(registry.port, register_and_login(registry.port, "bench")["access"])
        clients = {"MLflow": Client(mlflow_port, None), "Registry": Client(registry.port, token)}

        figures, made = {}, 0
        for size in SIZES:
            print(f"== {backend}: loading {size} models, {size * VERSIONS_PER_MODEL} versions", flush=True)
            seed_mlflow(backend, mlflow_target, made, size)
            variables = {"start": made, "stop": size, "versions": VERSIONS_PER_MODEL, "source": SOURCE}
            registry.manage("shell", "-c", REGISTRY_SEED % variables, timeout=1800)
            made = size
            if backend == "postgres":
                settle(postgres, *databases)
            figures[size] = measure(clients)

        small, large = SIZES[0] * VERSIONS_PER_MODEL, SIZES[-1] * VERSIONS_PER_MODEL
        print(f"\n[model registry] {backend}, median of {REPEAT}, at {small:,} and {large:,} versions")
        print(
            f"    {'call':<50}{'versions':>9}{'MLflow':>10}{'Registry':>10}{'ratio':>8}"
            f"{'MLflow growth':>15}{'Registry growth':>17}"
        )
        for call, label in LABELS.items():
            for size in SIZES:
                theirs, ours = figures[size]["MLflow"][call], figures[size]["Registry"][call]
                growth = ""
                if size == SIZES[-1]:
                    their_growth = theirs / figures[SIZES[0]]["MLflow"][call]
                    our_growth = ours / figures[SIZES[0]]["Registry"][call]
                    growth = f"{their_growth:>14.2f}x{our_growth:>16.2f}x"
                print(
                    f"    {label:<50}{size * VERSIONS_PER_MODEL:>9,}{theirs * 1000:>8.1f}ms{ours * 1000:>8.1f}ms"
                    f"{theirs / ours:>7.1f}x{growth}",
                    flush=True,
                )
    except Exception:
        print(f"---- MLflow log tail:\n{_tail(workdir / 'mlflow.log')}")
        if registry is not None:
            print(f"---- Registry log tail:\n{_tail(registry.log_path)}")
        raise
    finally:
        stop_all(mlflow_process, registry, postgres, databases, workdir)


if __name__ == "__main__":
    each_backend(bench_backend)
