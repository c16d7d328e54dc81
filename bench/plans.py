"""The database's plan for one captured query, as text: EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on SQLite."""

from django.db import connection


def explain(sql: str) -> str:
    """The plan of `sql` (as CaptureQueriesContext recorded it, parameters inlined). Only a read is explained: EXPLAIN
    ANALYZE runs the statement."""
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return "(not a SELECT: not explained)"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}")
            return "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return sqlite_tree(cursor.fetchall())


def sqlite_tree(rows: list[tuple]) -> str:
    """SQLite's plan rows (id, parent, unused, detail) drawn as the indented tree the sqlite3 shell prints."""
    depth = {0: -1}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, -1) + 1
        lines.append("  " * depth[node] + detail)
    return "\n".join(lines)
