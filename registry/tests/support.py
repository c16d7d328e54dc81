"""What several test modules share: the API's URLs, times relative to now, and reading answers and the database."""

from datetime import date, datetime, timedelta
from io import StringIO

from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from projects.models import Project
from projects.tests.factories import ProjectFactory

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


INVITATIONS_URL = reverse("invitation-list")


def invitation_url(pk: int) -> str:
    return reverse("invitation-detail", args=[pk])


def invitation_accept_url(pk: int) -> str:
    return reverse("invitation-accept", args=[pk])


def invitation_decline_url(pk: int) -> str:
    return reverse("invitation-decline", args=[pk])


def project_invitations_url(pk: int) -> str:
    return reverse("project-invitation-list", args=[pk])


def project_invitation_url(pk: int, invitation_id: int) -> str:
    return reverse("project-invitation-detail", args=[pk, invitation_id])


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


def in_days(days: int) -> date:
    """Today's date moved by `days` (negative: in the past)."""
    return timezone.localdate() + timedelta(days=days)


def expired_project(days_ago: int, **fields) -> Project:
    """A project that expired `days_ago` days ago: the model refuses to create one already expired, so it is created
    expiring today and its date moved after."""
    project = ProjectFactory(expiration_date=in_days(0), **fields)
    Project.objects.filter(pk=project.pk).update(expiration_date=in_days(-days_ago))
    project.refresh_from_db()
    return project


# ---------------------------------------------------------------------------------------------------------------------
# Clients, answers and commands
# ---------------------------------------------------------------------------------------------------------------------


def bearer_client(user) -> APIClient:
    """An API client that sends a real bearer token of `user`."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def ids(response) -> list[int]:
    """The ids of a 200 list answer, sorted."""
    return sorted(ids_in_order(response))


def ids_in_order(response) -> list[int]:
    """The ids of a 200 list answer, in the order given."""
    assert response.status_code == status.HTTP_200_OK, response.content
    return [row["id"] for row in response.json()]


def errors(response) -> dict:
    """The body of a 400 answer: the fields in error."""
    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    return response.json()


def autocomplete_ids(admin_client, model: str, field: str, term: str) -> list[str]:
    """The ids the admin's autocomplete offers for `field` of `model` ("app_label.model_name") on `term`."""
    app_label, model_name = model.split(".")
    params = {"app_label": app_label, "model_name": model_name, "field_name": field, "term": term}
    response = admin_client.get(reverse("admin:autocomplete"), params)
    assert response.status_code == status.HTTP_200_OK, response.content
    return [row["id"] for row in response.json()["results"]]


def run_command(name: str, *args: str) -> str:
    """Run a management command and return what it printed."""
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------------------------------
# The database
# ---------------------------------------------------------------------------------------------------------------------

# Every table an API call about projects, experiments or their metrics may write, users included (a transfer or a
# removal must not touch the accounts).
SNAPSHOT_APPS = ("accounts", "projects", "experiments", "tracking", "loggedmodels", "runinputs", "modelregistry")


def snapshot() -> dict:
    """Every row of those apps' tables as the database holds them, to show that a call changed something or nothing.

    Plain SQL rather than the ORM: the permission matrices take two snapshots per case, and this is a tenth of the cost.
    """
    rows = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for label in SNAPSHOT_APPS:
            for model in apps.get_app_config(label).get_models():
                meta = model._meta
                cursor.execute(f"SELECT * FROM {quote(meta.db_table)} ORDER BY {quote(meta.pk.column)}")
                rows[meta.label] = cursor.fetchall()
    return rows
