from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_user_identity_rules")]

    operations = [
        migrations.AlterField(model_name="user", name="username_key", field=models.TextField(editable=False)),
        migrations.RemoveConstraint(model_name="user", name="accounts_user_username_ci_unique"),
        migrations.RemoveConstraint(model_name="user", name="accounts_user_email_ci_unique"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=["username_key"],
                name="accounts_user_username_key_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                fields=["email_key"],
                name="accounts_user_email_key_unique",
                violation_error_message="A user with that email already exists.",
            ),
        ),
    ]
