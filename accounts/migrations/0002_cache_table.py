from django.db import migrations


class Migration(migrations.Migration):
    # The cache table is the project's, not this app's: registry's migration 0001 creates it.
    dependencies = [("accounts", "0001_initial")]

    operations = []
