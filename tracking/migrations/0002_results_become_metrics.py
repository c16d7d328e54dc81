import math

from django.db import migrations


def results_to_metrics(apps, schema_editor):
    """Each stored result becomes one point of its metric (step 0, at the experiment's last change) and its latest."""
    Experiment = apps.get_model("experiments", "Experiment")
    MetricPoint = apps.get_model("tracking", "MetricPoint")
    LatestMetric = apps.get_model("tracking", "LatestMetric")
    for experiment in Experiment.objects.exclude(results={}).only("pk", "results", "updated_at").iterator():
        timestamp = int(experiment.updated_at.timestamp() * 1000)
        for key, value in (experiment.results or {}).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                continue
            fields = {"experiment_id": experiment.pk, "key": key, "step": 0, "timestamp": timestamp}
            MetricPoint.objects.create(value=float(value), **fields)
            LatestMetric.objects.create(value=float(value), **fields)


def metrics_to_results(apps, schema_editor):
    Experiment = apps.get_model("experiments", "Experiment")
    LatestMetric = apps.get_model("tracking", "LatestMetric")
    results: dict[int, dict] = {}
    for latest in LatestMetric.objects.filter(is_nan=False).iterator():
        if math.isfinite(latest.value):
            results.setdefault(latest.experiment_id, {})[latest.key] = latest.value
    for pk, values in results.items():
        Experiment.objects.filter(pk=pk).update(results=values)


class Migration(migrations.Migration):
    dependencies = [("tracking", "0001_initial")]

    operations = [migrations.RunPython(results_to_metrics, metrics_to_results)]
