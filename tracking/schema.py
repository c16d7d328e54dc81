"""What the tracking app adds to the OpenAPI schema beyond what drf-spectacular derives from its views."""

from tracking.services import POINTS_MAX_COUNT

METRICS_PATH = "/experiments/{experiment_pk}/metrics/"


def state_metric_batch_bounds(result, generator, request, public):
    """A drf-spectacular postprocessing hook: a batch of points holds 1 to POINTS_MAX_COUNT points, which
    drf-spectacular cannot say of a list serializer."""
    operation = result.get("paths", {}).get(METRICS_PATH, {}).get("post")
    if operation is not None:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        body.update({"minItems": 1, "maxItems": POINTS_MAX_COUNT})
    return result
