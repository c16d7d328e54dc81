import django.core.validators
from django.db import migrations, models

import accounts.validators
import common.text


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_cache_table")]

    operations = [
        migrations.AddField(model_name="user", name="username_key", field=models.TextField(editable=False, null=True)),
        migrations.AddField(model_name="user", name="email_key", field=models.TextField(editable=False, null=True)),
        migrations.AlterField(
            model_name="user",
            name="username",
            field=models.CharField(
                error_messages={"unique": "A user with that username already exists."},
                help_text="Letters, digits and . _ + - (no @, not digits alone); at most 150 characters.",
                max_length=150,
                unique=True,
                validators=[accounts.validators.UsernameValidator()],
                verbose_name="username",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="first_name",
            field=models.CharField(
                blank=True,
                max_length=150,
                validators=[common.text.NoControlCharactersValidator()],
                verbose_name="first name",
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="last_name",
            field=models.CharField(
                blank=True,
                max_length=150,
                validators=[common.text.NoControlCharactersValidator()],
                verbose_name="last name",
            ),
        ),
    ]
