from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0004_project_name_rules")]

    operations = [
        migrations.AlterField(model_name="project", name="name_key", field=models.TextField(editable=False)),
        migrations.RemoveConstraint(model_name="project", name="projects_project_name_per_owner_ci_unique"),
        migrations.AddConstraint(
            model_name="project",
            constraint=models.UniqueConstraint(
                fields=["owner", "name_key"],
                name="projects_project_name_key_per_owner_unique",
                violation_error_message="You already have a project with this name.",
            ),
        ),
    ]
