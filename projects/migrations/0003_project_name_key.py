from django.db import migrations, models

import registry.text


class Migration(migrations.Migration):
    dependencies = [("projects", "0002_projectmembership")]

    operations = [
        migrations.AddField(model_name="project", name="name_key", field=models.TextField(editable=False, null=True)),
        migrations.AlterField(
            model_name="project",
            name="name",
            field=models.CharField(max_length=255, validators=[registry.text.NoControlCharactersValidator()]),
        ),
        migrations.AlterField(
            model_name="project",
            name="description",
            field=models.TextField(
                blank=True, default="", validators=[registry.text.NoControlCharactersValidator(multiline=True)]
            ),
        ),
    ]
