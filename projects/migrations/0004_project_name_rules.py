"""Fill in the folded project names. Where one owner holds names that fold alike ("Über" and "über"), the oldest keeps
its name and the others get " (2)", " (3)"... Control characters in names become spaces."""

import re

from django.db import migrations

from common.text import fold

BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def apply_rules(apps, schema_editor):
    Project = apps.get_model("projects", "Project")
    taken: set[tuple[int, str]] = set()
    for project in Project.objects.order_by("owner_id", "created_at", "id").iterator():
        name = BREAKING.sub(" ", project.name).strip() or "project"
        candidate, suffix = name, 1
        while (project.owner_id, fold(candidate)) in taken:
            suffix += 1
            candidate = f"{name[: 255 - len(str(suffix)) - 3]} ({suffix})"
        project.name, project.name_key = candidate, fold(candidate)
        taken.add((project.owner_id, project.name_key))
        project.save(update_fields=["name", "name_key"])


class Migration(migrations.Migration):
    dependencies = [("projects", "0003_project_name_key")]

    operations = [migrations.RunPython(apply_rules, migrations.RunPython.noop)]
