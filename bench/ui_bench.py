"""The web UI at scale: a project of 100,000 runs on PostgreSQL, timed in process.

    make bench-ui                          # 100,000 runs, 20 metrics and 20 parameters each
    make bench-ui BENCH_UI_RUNS=20000      # a quick run

A throwaway PostgreSQL database (as bench/registry_bench.py makes them) gets one user's project with BENCH_UI_RUNS
runs, each with 20 parameters and the latest values of 20 metrics, and one more run whose `loss` history holds
1,000,000 points; rows are copied in with COPY, then VACUUM ANALYZE. Django's test client, signed in as the owner,
then times each page (the p50 and p95 over BENCH_REPEAT requests, default 15, in milliseconds, with the queries one
request makes): the runs table's first page with 5 metric and 5 parameter columns, its 200th page (reached by
following "Next page", as a reader does), a page sorted by a metric, a run's page, and the chart data of the
1,000,000-point metric. It also weighs the runs table page: its HTML and the CSS and JavaScript it loads.
"""

import datetime
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_UI_RUNS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "15"))
KEYS = 20
HISTORY = 1_000_000
PAGE = 200
TARGETS_MS = {"first page": 150, f"page {PAGE}": 150, "sorted by a metric": 150, "run page": 100, "chart": 100}
WEIGHT_TARGET = 300 * 1024
# Characters of a slow query's SQL printed.
SQL_SHOWN = 600


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from bench.registry_bench import postgres_available, throwaway_database

    if postgres_available() is None:
        sys.exit("PostgreSQL does not answer on PG_HOST:PG_PORT: the UI benchmark needs it.")
    with throwaway_database("postgres", "ui") as environment:
        python = sys.executable
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
        done = subprocess.run(
            [python, __file__, "inprocess"], cwd=ROOT, env=environment, capture_output=True, text=True
        )
        if done.returncode != 0:
            sys.exit(f"the in-process part failed:\n{done.stdout}\n{done.stderr}")
        print(done.stderr, file=sys.stderr)
        report(json.loads(done.stdout.splitlines()[-1]))


def report(figures: dict) -> None:
    print(f"\n[web UI] PostgreSQL, one project of {figures['runs']:,} runs, {KEYS} metrics and {KEYS} parameters each,")
    print(f"a {HISTORY:,}-point history; seeded in {figures['seconds']:.0f} s; median and p95 of {REPEAT} requests")
    print(f"    {'page':<24}{'p50':>9}{'p95':>9}{'queries':>9}{'target':>9}")
    for name, row in figures["pages"].items():
        target = f"<{TARGETS_MS[name]} ms"
        print(f"    {name:<24}{row['p50']:>7.1f}ms{row['p95']:>7.1f}ms{row['queries']:>9}{target:>9}")
    print("\n    The slowest query of each page:")
    for name, row in figures["pages"].items():
        print(f"    - {name}: {row['slowest']['ms']:.1f} ms: {row['slowest']['sql'][:SQL_SHOWN]}")
    weight = figures["weight"]
    print(
        f"    runs table page weight: {weight['html'] / 1024:.1f} KiB of HTML, "
        f"{weight['assets'] / 1024:.1f} KiB of CSS and JavaScript ({', '.join(weight['files'])}): "
        f"{weight['total'] / 1024:.1f} KiB (target < 300 KiB)"
    )


def inprocess() -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import re

    from django.contrib.staticfiles import finders
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts.models import User
    from experiments.models import Experiment
    from projects.models import Project
    from tracking.models import LatestMetric, MetricPoint

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    owner = User.objects.create_user(username="owner", email="owner@example.com", password="bench-password-4711")
    project = Project.objects.create(owner=owner, name="big")
    columns = [field for field in Experiment._meta.concrete_fields if not field.primary_key]
    template = [field.get_db_prep_save(field.get_default(), connection) for field in columns]
    at = {field.attname: position for position, field in enumerate(columns)}
    now_ms = int(time.time() * 1000)
    origin = timezone.now() - datetime.timedelta(days=30)

    def moment(i: int):
        return connection.ops.adapt_datetimefield_value(origin + datetime.timedelta(seconds=i))

    def run_row(i: int) -> tuple:
        values = template.copy()
        values[at["name"]] = f"run-{i}"
        values[at["status"]] = "completed" if i % 3 else "running"
        values[at["run_uuid"]] = uuid.UUID(int=i + 1).hex
        values[at["owner_id"]], values[at["project_id"]] = owner.pk, project.pk
        values[at["created_at"]] = values[at["updated_at"]] = values[at["started_at"]] = moment(i)
        values[at["parameters"]] = json.dumps({f"p{k}": f"{(i * 7 + k) % 1000 / 1000}" for k in range(KEYS)})
        return tuple(values)

    table = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cursor:
        names = ", ".join(table(field.column) for field in columns)
        with cursor.cursor.copy(f"COPY {table(Experiment._meta.db_table)} ({names}) FROM STDIN") as copy:
            for i in range(RUNS + 1):
                copy.write_row(run_row(i))
        ids = list(Experiment.objects.filter(project=project).order_by("pk").values_list("pk", flat=True))
        latest = f"COPY {table(LatestMetric._meta.db_table)} (experiment_id, key, step, timestamp, value, is_nan)"
        with cursor.cursor.copy(f"{latest} FROM STDIN") as copy:
            for n, experiment in enumerate(ids[:RUNS]):
                for k in range(KEYS):
                    copy.write_row((experiment, f"m{k}", 10, now_ms, ((n * 31 + k * 17) % 10007) / 10007, False))
        long_run = ids[RUNS]
        points = f"COPY {table(MetricPoint._meta.db_table)} (experiment_id, key, step, timestamp, value, is_nan)"
        with cursor.cursor.copy(f"{points} FROM STDIN") as copy:
            for step in range(HISTORY):
                copy.write_row((long_run, "loss", step, now_ms + step, 1 / (1 + step), False))
        cursor.execute(
            f"INSERT INTO {table(LatestMetric._meta.db_table)} (experiment_id, key, step, timestamp, value, is_nan) "
            "VALUES (%s, 'loss', %s, %s, %s, false)",
            [long_run, HISTORY - 1, now_ms + HISTORY - 1, 1 / HISTORY],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds = time.perf_counter() - started

    client = Client(SERVER_NAME="localhost")
    client.force_login(owner)
    base = f"/ui/projects/{project.pk}"
    picked = "&".join([*(f"metric=m{k}" for k in range(5)), *(f"param=p{k}" for k in range(5))])
    first = f"{base}?{picked}"
    # The 200th page, by its "Next page" links as a reader follows them.
    deep = first
    for _ in range(PAGE - 1):
        page = client.get(deep).content.decode()
        deep = re.search(r'<a href="([^"]+)" hx-get="[^"]+" rel="next">', page)[1].replace("&amp;", "&")
    run_id = uuid.UUID(int=2).hex
    pages = {
        "first page": first,
        f"page {PAGE}": deep,
        "sorted by a metric": f"{first}&sort=-metric:m3",
        "run page": f"/ui/runs/{run_id}",
        "chart": f"/ui/runs/{uuid.UUID(int=RUNS + 1).hex}/metric-history?key=loss",
    }
    figures = {}
    for name, url in pages.items():
        answer = client.get(url)
        assert answer.status_code == 200, (name, answer.status_code)
        if name == "chart":
            assert len(answer.json()["steps"]) == 1000, len(answer.json()["steps"])
        times = []
        for _ in range(REPEAT):
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        times.sort()
        slowest = max(queries.captured_queries, key=lambda query: float(query["time"]))
        figures[name] = {
            "p50": statistics.median(times),
            "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "queries": len(queries),
            "slowest": {"ms": float(slowest["time"]) * 1000, "sql": slowest["sql"]},
        }
        if os.environ.get("BENCH_UI_PLANS"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN ANALYZE " + slowest["sql"])
                print(f"---- {name}\n" + "\n".join(row[0] for row in cursor.fetchall()), file=sys.stderr)

    html = client.get(first).content.decode()
    assets = re.findall(r'<(?:script src|link rel="stylesheet" href)="/static/([^"]+)"', html)
    sizes = {}
    for asset in assets:
        name = re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", asset)  # Without the manifest's hash.
        sizes[name] = Path(finders.find(name)).stat().st_size
    weight = {"html": len(html.encode()), "assets": sum(sizes.values()), "files": sorted(sizes)}
    weight["total"] = weight["html"] + weight["assets"]
    return {"runs": RUNS, "seconds": seconds, "pages": figures, "weight": weight}


if __name__ == "__main__":
    if sys.argv[1:] == ["inprocess"]:
        print(json.dumps(inprocess()))
    else:
        main()
