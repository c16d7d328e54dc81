import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from tracking.models import MetricPoint
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db


def test_user_admin_pages_load(admin_client):
    user = UserFactory()

    for url in [
        reverse("admin:index"),
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_changelist") + "?q=user&is_staff__exact=1",
        reverse("admin:accounts_user_add"),
        reverse("admin:accounts_user_change", args=[user.pk]),
        reverse("admin:auth_user_password_change", args=[user.pk]),
    ]:
        assert admin_client.get(url).status_code == 200, url


def test_admin_changes_a_password(admin_client):
    user = UserFactory()

    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": "a-long-enough-passphrase", "password2": "a-long-enough-passphrase", "usable_password": "true"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-enough-passphrase")


def test_admin_creates_a_user_with_email(admin_client):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "usable_password": "true",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="newbie").email == "newbie@example.com"


def test_createsuperuser_works():
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com")

    assert User.objects.get(username="root").is_superuser


@pytest.mark.parametrize("how", ["delete page", "delete selected"])
def test_deleting_users_in_the_admin_deletes_what_they_own(admin_client, how):
    leaving, staying = UserFactory(), UserFactory()
    theirs, kept = ExperimentFactory(owner=leaving), ExperimentFactory(owner=staying)
    for experiment in (theirs, kept):
        metrics_record(experiment=experiment, points=[Point("loss", 0.5, 0, 1)])

    if how == "delete page":
        response = admin_client.post(reverse("admin:accounts_user_delete", args=[leaving.pk]), {"post": "yes"})
    else:
        data = {"action": "delete_selected", "_selected_action": [leaving.pk], "post": "yes"}
        response = admin_client.post(reverse("admin:accounts_user_changelist"), data)

    assert response.status_code == 302
    assert not User.objects.filter(pk=leaving.pk).exists()
    assert list(Experiment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(MetricPoint.objects.values_list("experiment_id", flat=True)) == [kept.pk]
