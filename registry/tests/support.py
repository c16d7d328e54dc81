"""What several test modules share: the API's URLs, times relative to now, and reading answers and the database."""

from datetime import datetime, timedelta

from django.apps import apps
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

# ---------------------------------------------------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------------------------------------------------

PROJECTS_URL = reverse("project-list")
EXPERIMENTS_URL = reverse("experiment-list")


def project_url(pk: int) -> str:
    return reverse("project-detail", args=[pk])


def project_experiments_url(pk: int) -> str:
    return reverse("project-experiment-list", args=[pk])


def transfer_url(pk: int) -> str:
    return reverse("project-transfer", args=[pk])


def project_restore_url(pk: int) -> str:
    return reverse("project-restore", args=[pk])


def members_url(pk: int) -> str:
    return reverse("project-member-list", args=[pk])


def member_url(pk: int, user_id: int) -> str:
    return reverse("project-member-detail", args=[pk, user_id])


def experiment_url(pk: int) -> str:
    return reverse("experiment-detail", args=[pk])


def rerun_url(pk: int) -> str:
    return reverse("experiment-rerun", args=[pk])


def experiment_restore_url(pk: int) -> str:
    return reverse("experiment-restore", args=[pk])


def metrics_url(pk: int) -> str:
    return reverse("experiment-metric-list", args=[pk])


# ---------------------------------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------------------------------


def ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def from_now(**delta) -> datetime:
    return timezone.now() + timedelta(**delta)


# ---------------------------------------------------------------------------------------------------------------------
# Clients and answers
# ---------------------------------------------------------------------------------------------------------------------


def bearer_client(user) -> APIClient:
    """An API client that sends a real bearer token of `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def ids(response) -> list[int]:
    """The ids of a 200 list answer, sorted."""
    assert response.status_code == status.HTTP_200_OK, response.content
    return sorted(row["id"] for row in response.json())


def errors(response) -> dict:
    """The body of a 400 answer: the fields in error."""
    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    return response.json()


# ---------------------------------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------------------------------

# Every table an API call about projects, experiments or their metrics may write, users included (a transfer or a
# removal must not touch the accounts).
SNAPSHOT_APPS = ("accounts", "projects", "experiments", "tracking")


def snapshot() -> dict:
    """Every row of those apps' tables as the database holds them, to show that a call changed something or nothing."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for label in SNAPSHOT_APPS
        for model in apps.get_app_config(label).get_models()
    }
