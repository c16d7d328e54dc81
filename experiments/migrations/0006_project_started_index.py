"""An index for a project's runs newest first (the web UI's default order: `started_at DESC NULLS LAST, id DESC`).

Written as SQL because the order must match the index's: PostgreSQL needs `DESC NULLS LAST` in the index, a clause
SQLite does not take (its NULLs sort first ascending, so its plain index read backwards gives the same order)."""

from django.db import migrations

NAME = "experiment_project_started_idx"
COLUMNS = {
    "postgresql": "project_id, lifecycle_stage, started_at DESC NULLS LAST, id DESC",
    "sqlite": "project_id, lifecycle_stage, started_at, id",
}


def create(apps, schema_editor):
    columns = COLUMNS.get(schema_editor.connection.vendor)
    if columns:
        schema_editor.execute(f"CREATE INDEX {NAME} ON experiments_experiment ({columns})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor in COLUMNS:
        schema_editor.execute(f"DROP INDEX {NAME}")


class Migration(migrations.Migration):
    dependencies = [("experiments", "0005_visibility_indexes")]

    operations = [migrations.RunPython(create, drop)]
