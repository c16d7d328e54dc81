import logging

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularRedocView
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from artifacts.services import artifact_store_status
from common.password_forms import ThrottledLoginView
from common.queue import queue_status
from registry import __version__
from ui import views as ui_views

logger = logging.getLogger(__name__)


@extend_schema(
    summary="Service name, version and links",
    responses=inline_serializer(
        "Root",
        {
            "name": serializers.CharField(),
            "version": serializers.CharField(),
            "links": inline_serializer(
                "RootLinks",
                {
                    "docs": serializers.URLField(help_text="Swagger UI."),
                    "redoc": serializers.URLField(help_text="ReDoc."),
                    "schema": serializers.URLField(help_text="The OpenAPI 3 schema."),
                    "health": serializers.URLField(help_text="The health check."),
                },
            ),
        },
    ),
)
@api_view(["GET"])
@permission_classes([AllowAny])
def root(request):
    """Name the service and point to its documentation; a browser, which asks for HTML by name, gets the web UI."""
    if "text/html" in request.headers.get("Accept", ""):
        return ui_views.home(request._request)
    links = {
        name: reverse(route, request=request)
        for name, route in [("docs", "docs"), ("redoc", "redoc"), ("schema", "schema"), ("health", "health")]
    }
    return Response({"name": "Registry", "version": __version__, "links": links})


_queue_fields = {
    "status": serializers.CharField(help_text="`ok`, or `unavailable` when the queue cannot be read."),
    "queued": serializers.IntegerField(allow_null=True, help_text="Tasks waiting for a worker."),
    "oldest_seconds": serializers.FloatField(
        allow_null=True, help_text="How long the oldest waiting task has waited (0 when none waits)."
    ),
}


@extend_schema(
    summary="Health check",
    description=(
        "Also at `/healthcheck`. 200 while the database answers, else 503. `queue` reports the task queue: a long "
        "wait means busy or stopped workers and is reported, never a 503. `artifacts` reports whether the artifact "
        "storage answers (`ok` or `unavailable`), also never a 503."
    ),
    auth=[],
    responses={
        200: inline_serializer(
            "Health",
            {
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "queue": inline_serializer("HealthQueue", _queue_fields),
                "artifacts": serializers.CharField(),
                "version": serializers.CharField(),
            },
        ),
        503: inline_serializer(
            "HealthUnavailable",
            {
                "status": serializers.CharField(),
                "database": serializers.CharField(),
                "version": serializers.CharField(),
            },
        ),
    },
)
@api_view(["GET"])
@permission_classes([AllowAny])
def health(request):
    """Answer 200 while the database answers, else 503, for load balancers and orchestrators; report the queue."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("Health check: database unavailable: %s", exc)
        body = {"status": "unavailable", "database": "unavailable", "version": __version__}
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "5"})
    return Response(
        {
            "status": "ok",
            "database": "ok",
            "queue": queue_status(),
            "artifacts": artifact_store_status(),
            "version": __version__,
        }
    )


class BrowsableAPILoginView(ThrottledLoginView):
    """The browsable API's login page (a session, as in the admin), throttled like every door that checks a password."""

    template_name = "rest_framework/login.html"
    refused_template = "rest_framework/login_throttled.html"


# JSON in place of Django's HTML error pages, for routes outside REST framework's views (unknown paths, a foreign
# Host header, an unhandled error), so that an API client never parses HTML and never sees a traceback.
def bad_request(request, exception=None):
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request, exception=None):
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def page_not_found(request, exception=None):
    if request.path.startswith("/ui/"):
        return render(request, "ui/404.html", status=404)
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request):
    return JsonResponse({"detail": "Internal server error."}, status=500)


class RedocView(SpectacularRedocView):
    """ReDoc that needs no internet: no web fonts (registry/templates/drf_spectacular/redoc.html), and the attribution
    logo its bundle loads from a CDN refused by the page's policy, so the browser never asks."""

    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = "img-src 'self' data: blob:; font-src 'self' data:"
        return response
