"""The benchmark's report: markdown tables of the figures bench/registry_bench.py gathered."""

import os
import platform
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKEND_NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
SQL_SHOWN = 160


def context() -> dict[str, str]:
    """What the figures depend on besides the code: when, which commit, which machine and how busy it was."""
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    branch = subprocess.run(
        ["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "date": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "commit": f"{commit} ({branch})",
        "machine": f"{os.cpu_count()} CPUs, load average {load} at the start",
        "Python": platform.python_version(),
        "SQLite": sqlite3.sqlite_version,
    }


def short(size: int) -> str:
    for unit, name in ((1_000_000, "M"), (1_000, "k")):
        if size >= unit and size % (unit // 10) == 0:
            return f"{size / unit:g}{name}"
    return str(size)


def table(header: list[str], rows: list[list[str]], right_from: int = 1) -> list[str]:
    align = ["---" if index < right_from else "--:" for index in range(len(header))]
    return ["| " + " | ".join(cells) + " |" for cells in [header, align, *rows]]


def milliseconds(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def ratio(large: float, small: float) -> str:
    return f"{large / small:,.1f}x" if small else "-"


def render_throughput(settings: dict, results: dict) -> list[str]:
    lines = [
        "## Throughput: Registry under gunicorn (2 workers, 127.0.0.1)",
        "",
        f"Median of {settings['rounds']} interleaved rounds of {settings['seconds']} s each. The list reader owns "
        "1,000 experiments and sees 1,500 more through 3 projects; creates come from a second user, so that the list "
        "does not grow. With 16 connections on 2 workers, a request mostly waits in gunicorn's queue: p50 is about "
        "16 / (req/s).",
        "",
    ]
    rows = [
        [
            BACKEND_NAMES[backend],
            label,
            f"{f['rps']:,.0f}",
            milliseconds(f["p50"] / 1000),
            milliseconds(f["p99"] / 1000),
            str(f["errors"]),
        ]
        for backend, figures in results.items()
        for label, f in figures.items()
    ]
    return [*lines, *table(["backend", "request", "req/s", "p50 ms", "p99 ms", "non-2xx"], rows, right_from=2), ""]


def render_scale(backend: str, figures: dict) -> list[str]:
    sizes = sorted(figures["sizes"], key=int)
    names = [short(int(size)) for size in sizes]
    small, large = sizes[0], sizes[-1]
    seeded = ", ".join(f"{short(int(size))} in {figures['sizes'][size]['seed_seconds']:.1f} s" for size in sizes)
    repetitions = ", ".join(
        f"{'-'.join(sorted({str(min(counts)), str(max(counts))}, key=int))} at {short(int(size))}"
        for size in sizes
        for counts in [[at["repeat"] for at in figures["sizes"][size]["endpoints"].values()]]
    )
    lines = [
        f"## Scale: {BACKEND_NAMES[backend]}",
        "",
        "1000 users own 2000 projects and the experiments in them, spread evenly. The caller owns 30 experiments "
        "outside any project and is a viewer of 3 projects (and an expired one of 2 more); the wide caller is a viewer "
        "of 200 projects, a tenth of all experiments.",
        "",
        f"Seeded (each size grown from the one before): {seeded}. In process, through the test client with a JWT; "
        f"repetitions per endpoint: {repetitions}. `rows` is what the list answers in X-Total-Count; times in ms.",
        "",
    ]
    many = len(sizes) > 1
    header = ["endpoint"]
    for measure in ("rows", "p50", "p95", "queries"):
        header += [f"{measure} {name}" for name in names]
        if many and measure in ("p50", "p95"):
            header.append(f"{measure} {names[-1]}/{names[0]}")
    rows = []
    labels = list(figures["sizes"][small]["endpoints"])
    for label in labels:
        at = {size: figures["sizes"][size]["endpoints"][label] for size in sizes}
        row = [f"`{label}`"]
        row += [f"{int(at[size]['rows']):,}" for size in sizes]
        for measure in ("p50", "p95"):
            row += [milliseconds(at[size][measure]) for size in sizes]
            if many:
                row.append(ratio(at[large][measure], at[small][measure]))
        row += [str(at[size]["queries"]) for size in sizes]
        rows.append(row)
    lines += [*table(header, rows), ""]

    lines += [f"### Plans of the slowest query of each request ({BACKEND_NAMES[backend]})", ""]
    for label in labels:
        lines += [f"#### `{label}`", "", "```"]
        for size, name in zip(sizes, names, strict=True):
            at = figures["sizes"][size]["endpoints"][label]
            sql = at["slowest_sql"]
            sql = sql if len(sql) <= SQL_SHOWN else sql[:SQL_SHOWN] + " ..."
            lines += [f"-- {name}: {at['slowest_ms']:.2f} ms: {sql}", at["plan"], ""]
        lines[-1] = "```"
        lines.append("")
    return lines


def render(context: dict, settings: dict, results: dict) -> str:
    lines = ["# Registry benchmark", ""]
    lines += [f"- {name}: {value}" for name, value in context.items() if value]
    lines += [
        "- The machine is shared: other processes take CPU while this runs, so the figures are noisy; compare "
        "ratios and orders of magnitude, not the last digit.",
        "",
    ]
    if results["throughput"]:
        lines += render_throughput(settings, results["throughput"])
    for backend, figures in results["scale"].items():
        lines += render_scale(backend, figures)
    return "\n".join(lines)
