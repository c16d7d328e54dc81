from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status

from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from registry.tests.support import autocomplete_ids
from tracking.models import MetricPoint
from tracking.services import Point, metrics_record

pytestmark = pytest.mark.django_db

S = Experiment.Status
CHANGELIST_URL = reverse("admin:experiments_experiment_changelist")
ADD_URL = reverse("admin:experiments_experiment_add")


def change_url(pk: int) -> str:
    return reverse("admin:experiments_experiment_change", args=[pk])


def _form(experiment: Experiment | None = None, **overrides) -> dict:
    """The add/change form as a browser would post it."""
    data = {
        "name": "from the admin",
        "owner": "",
        "description": "",
        "status": S.DRAFT,
        "parameters": "{}",
        "results": "{}",
        "tags": "[]",
        "started_at_0": "",
        "started_at_1": "",
        "finished_at_0": "",
        "finished_at_1": "",
    }
    if experiment is not None:
        data.update(
            name=experiment.name,
            owner=experiment.owner_id,
            description=experiment.description,
            status=experiment.status,
        )
    data.update(overrides)
    return data


def test_changelist_loads(admin_client, user):
    ExperimentFactory.create_batch(3, owner=user)
    response = admin_client.get(CHANGELIST_URL)
    assert response.status_code == status.HTTP_200_OK
    assert response.context["cl"].result_count == 3


def test_changelist_queries_do_not_grow_with_the_rows(
    admin_client, django_assert_max_num_queries, django_assert_num_queries
):
    ExperimentFactory()
    with django_assert_max_num_queries(20) as one_row:
        assert admin_client.get(CHANGELIST_URL).status_code == status.HTTP_200_OK
    ExperimentFactory.create_batch(19)
    with django_assert_num_queries(len(one_row)):
        assert admin_client.get(CHANGELIST_URL).status_code == status.HTTP_200_OK


@pytest.mark.parametrize("term", ["findme", "FINDME@example", "resnet", "deep layers"])
def test_changelist_searches_name_description_and_owner(admin_client, django_user_model, term):
    owner = django_user_model.objects.create_user(username="findme", email="findme@example.com")
    wanted = ExperimentFactory(owner=owner, name="resnet", description="many deep layers")
    ExperimentFactory(name="other")
    response = admin_client.get(CHANGELIST_URL, {"q": term})
    assert list(response.context["cl"].result_list) == [wanted]


def test_changelist_filters_by_status(admin_client):
    running = ExperimentFactory(status=S.RUNNING)
    ExperimentFactory(status=S.DRAFT)
    response = admin_client.get(CHANGELIST_URL, {"status__exact": S.RUNNING})
    assert list(response.context["cl"].result_list) == [running]


def test_owner_autocomplete_answers(admin_client, user):
    assert autocomplete_ids(admin_client, "experiments.experiment", "owner", user.username) == [str(user.pk)]


def test_add_page_loads(admin_client):
    assert admin_client.get(ADD_URL).status_code == status.HTTP_200_OK


def test_add_creates_a_draft_owned_by_the_admin_whatever_the_form_says(admin_client, admin_user, user):
    response = admin_client.post(ADD_URL, _form(owner=user.pk, name="  added ", tags='["ml"]'))
    assert response.status_code == status.HTTP_302_FOUND, response.context["adminform"].errors
    experiment = Experiment.objects.get()
    assert (experiment.name, experiment.owner, experiment.status, experiment.tags) == (
        "added",
        admin_user,
        S.DRAFT,
        ["ml"],
    )


def test_add_as_running_stamps_started_at(admin_client, user):
    response = admin_client.post(ADD_URL, _form(owner=user.pk, status=S.RUNNING))
    assert response.status_code == status.HTTP_302_FOUND
    assert Experiment.objects.get().started_at is not None


def test_add_with_a_status_unreachable_from_draft_shows_the_error(admin_client, user):
    response = admin_client.post(ADD_URL, _form(owner=user.pk, status=S.COMPLETED))
    assert response.status_code == status.HTTP_200_OK
    assert "Allowed moves from draft: running, cancelled." in response.content.decode()
    assert not Experiment.objects.exists()


def test_add_with_invalid_json_fields_shows_the_errors(admin_client, user):
    response = admin_client.post(ADD_URL, _form(owner=user.pk, tags='["a", "a"]', parameters="[1]"))
    assert response.status_code == status.HTTP_200_OK
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"tags", "parameters"}
    assert not Experiment.objects.exists()


def test_change_page_loads(admin_client, user):
    experiment = ExperimentFactory(owner=user, tags=["ml"], parameters={"lr": 0.1})
    assert admin_client.get(change_url(experiment.pk)).status_code == status.HTTP_200_OK


def test_status_change_in_the_admin_goes_through_the_service(admin_client, user):
    experiment = ExperimentFactory(owner=user)
    response = admin_client.post(change_url(experiment.pk), _form(experiment, status=S.RUNNING))
    assert response.status_code == status.HTTP_302_FOUND
    experiment.refresh_from_db()
    assert experiment.status == S.RUNNING
    assert experiment.started_at is not None


def test_refused_status_change_in_the_admin_shows_the_allowed_moves(admin_client, user):
    finished = timezone.now() - timedelta(hours=1)
    experiment = ExperimentFactory(owner=user, status=S.COMPLETED, started_at=finished, finished_at=finished)
    response = admin_client.post(change_url(experiment.pk), _form(experiment, status=S.DRAFT, name="renamed"))
    assert response.status_code == status.HTTP_200_OK
    assert "Allowed moves from completed: none" in response.content.decode()
    stored = Experiment.objects.get(pk=experiment.pk)
    assert (stored.status, stored.name) == (S.COMPLETED, experiment.name)


def test_changing_other_fields_keeps_the_status_and_the_owner(admin_client, user, other_user):
    experiment = ExperimentFactory(owner=user, status=S.RUNNING, started_at=timezone.now())
    response = admin_client.post(change_url(experiment.pk), _form(experiment, name="renamed", owner=other_user.pk))
    assert response.status_code == status.HTTP_302_FOUND
    experiment.refresh_from_db()
    assert (experiment.name, experiment.owner, experiment.status) == ("renamed", user, S.RUNNING)


def test_delete_in_the_admin(admin_client, user):
    experiment = ExperimentFactory(owner=user)
    url = reverse("admin:experiments_experiment_delete", args=[experiment.pk])
    assert admin_client.get(url).status_code == status.HTTP_200_OK
    assert admin_client.post(url, {"post": "yes"}).status_code == status.HTTP_302_FOUND
    assert not Experiment.objects.exists()


def test_delete_selected_in_the_admin_deletes_the_experiments_and_their_history(admin_client, user):
    chosen = [ExperimentFactory(owner=user), ExperimentFactory(owner=user)]
    kept = ExperimentFactory(owner=user)
    for experiment in [*chosen, kept]:
        metrics_record(experiment=experiment, points=[Point("loss", 0.5, 0, 1)])
    data = {"action": "delete_selected", "_selected_action": [e.pk for e in chosen], "post": "yes"}

    assert admin_client.post(CHANGELIST_URL, data).status_code == status.HTTP_302_FOUND

    assert list(Experiment.objects.values_list("pk", flat=True)) == [kept.pk]
    assert list(MetricPoint.objects.values_list("experiment_id", flat=True)) == [kept.pk]
