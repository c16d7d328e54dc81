from django.db import migrations, models

import common.text


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_projectmembership")]

    operations = [
        migrations.AddField(model_name="project", name="name_key", field=models.TextField(editable=False, null=True)),
        migrations.AlterField(
            model_name="project",
            name="name",
            field=models.CharField(max_length=255, validators=[common.text.NoControlCharactersValidator()]),
        ),
        migrations.AlterField(
            model_name="project",
            name="description",
            field=models.TextField(
                blank=True, default="", validators=[common.text.NoControlCharactersValidator(multiline=True)]
            ),
        ),
    ]
