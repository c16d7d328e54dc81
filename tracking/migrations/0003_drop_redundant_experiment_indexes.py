from django.db import migrations, models
from django.db.models import deletion

# The unique constraint of each table starts with the experiment, so its index serves every lookup by experiment (and
# the cascade on delete); the experiment's own index only cost time on every write. Dropped by name rather than by
# AlterField, which SQLite carries out by copying the whole table.
INDEXES = [
    ("tracking_metricpoint", "tracking_metricpoint_experiment_id_826b98a6"),
    ("tracking_latestmetric", "tracking_latestmetric_experiment_id_36c6068e"),
]


def _field(related_name: str):
    return models.ForeignKey(
        db_index=False,
        on_delete=deletion.CASCADE,
        related_name=related_name,
        to="experiments.experiment",
    )


class Migration(migrations.Migration):
    dependencies = [("tracking", "0002_results_become_metrics")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("experiment_id")',
                )
                for table, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(model_name="latestmetric", name="experiment", field=_field("latest_metrics")),
                migrations.AlterField(model_name="metricpoint", name="experiment", field=_field("metric_points")),
            ],
        )
    ]
