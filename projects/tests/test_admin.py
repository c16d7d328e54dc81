import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django_q.models import Schedule
from rest_framework import status

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import Project
from projects.tests.factories import ProjectFactory
from registry.tests.support import autocomplete_ids, expired_project, in_days

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:projects_project_changelist")
ADD_URL = reverse("admin:projects_project_add")
# The inline's management form: the add and change forms carry it even when the inline adds nothing.
NO_INLINE_ROWS = {
    "memberships-TOTAL_FORMS": "0",
    "memberships-INITIAL_FORMS": "0",
    "experiments-TOTAL_FORMS": "0",
    "experiments-INITIAL_FORMS": "0",
}


def change_url(pk: int) -> str:
    return reverse("admin:projects_project_change", args=[pk])


def _form(owner, **overrides) -> dict:
    """The add form as a browser would post it."""
    return {"name": "from the admin", "owner": owner.pk, "description": "", "expiration_date": "", **overrides}


def test_changelist_loads_with_the_experiment_count_and_expiration_columns(admin_client, user):
    project = ProjectFactory(owner=user, expiration_date=in_days(3))
    ExperimentFactory.create_batch(2, owner=user, project=project)
    response = admin_client.get(CHANGELIST_URL)
    assert response.status_code == status.HTTP_200_OK
    (row,) = response.context["cl"].result_list
    assert (row, row.experiment_count) == (project, 2)
    content = response.content.decode()
    assert '<td class="field-experiment_count">2</td>' in content
    assert 'class="field-expiration_date' in content


def test_changelist_orders_by_experiment_count(admin_client, user):
    busy, idle = ProjectFactory.create_batch(2, owner=user)
    ExperimentFactory.create_batch(2, owner=user, project=busy)
    # The experiment count is the fourth column.
    response = admin_client.get(CHANGELIST_URL, {"o": "4"})
    assert list(response.context["cl"].result_list) == [idle, busy]


def test_changelist_queries_do_not_grow_with_the_rows(
    admin_client, user, django_assert_max_num_queries, django_assert_num_queries
):
    ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    with django_assert_max_num_queries(20) as one_row:
        assert admin_client.get(CHANGELIST_URL).status_code == status.HTTP_200_OK
    for project in ProjectFactory.create_batch(9):
        ExperimentFactory.create_batch(2, owner=project.owner, project=project)
    with django_assert_num_queries(len(one_row)):
        assert admin_client.get(CHANGELIST_URL).status_code == status.HTTP_200_OK


@pytest.fixture
def by_expiration() -> dict[str, Project]:
    return {
        "expired": expired_project(2, name="expired"),
        "today": ProjectFactory(name="today", expiration_date=in_days(0)),
        "in 7 days": ProjectFactory(name="in 7 days", expiration_date=in_days(7)),
        "in 8 days": ProjectFactory(name="in 8 days", expiration_date=in_days(8)),
        "never": ProjectFactory(name="never"),
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("soon", {"today", "in 7 days"}),
        ("expired", {"expired"}),
        ("never", {"never"}),
        (None, {"expired", "today", "in 7 days", "in 8 days", "never"}),
    ],
)
def test_changelist_expiration_filter(admin_client, by_expiration, value, expected):
    response = admin_client.get(CHANGELIST_URL, {"expiration": value} if value else {})
    assert response.status_code == status.HTTP_200_OK
    assert {project.name for project in response.context["cl"].result_list} == expected


def test_expiration_filter_soon_follows_the_setting(admin_client, by_expiration, settings):
    settings.EXPIRATION_REMINDER_DAYS = 8
    response = admin_client.get(CHANGELIST_URL, {"expiration": "soon"})
    assert {project.name for project in response.context["cl"].result_list} == {"today", "in 7 days", "in 8 days"}


@pytest.mark.parametrize("term", ["findme", "FINDME@example", "warehouse", "deep lake"])
def test_changelist_searches_name_description_and_owner(admin_client, django_user_model, term):
    owner = django_user_model.objects.create_user(username="findme", email="findme@example.com")
    wanted = ProjectFactory(owner=owner, name="Warehouse", description="fed by the deep lake")
    ProjectFactory(name="other")
    response = admin_client.get(CHANGELIST_URL, {"q": term})
    assert response.status_code == status.HTTP_200_OK
    assert list(response.context["cl"].result_list) == [wanted]


def test_owner_autocomplete_answers(admin_client, user):
    assert autocomplete_ids(admin_client, "projects.project", "owner", user.username) == [str(user.pk)]


def test_add_page_loads(admin_client):
    assert admin_client.get(ADD_URL).status_code == status.HTTP_200_OK


def test_add_creates_a_trimmed_project(admin_client, user):
    form = _form(user, name="  warehouse ", expiration_date=in_days(30).isoformat(), **NO_INLINE_ROWS)
    response = admin_client.post(ADD_URL, form)
    assert response.status_code == status.HTTP_302_FOUND, response.context["adminform"].form.errors
    project = Project.objects.get()
    assert (project.name, project.owner, project.expiration_date) == ("warehouse", user, in_days(30))


def test_add_of_an_expired_project_shows_the_error(admin_client, user):
    response = admin_client.post(ADD_URL, _form(user, expiration_date=in_days(-1).isoformat(), **NO_INLINE_ROWS))
    assert response.status_code == status.HTTP_200_OK
    assert response.context["adminform"].form.errors == {
        "expiration_date": ["A new project cannot be already expired."]
    }
    assert not Project.objects.exists()


def test_add_with_a_name_the_owner_uses_shows_the_error_beside_the_name(admin_client, user):
    ProjectFactory(owner=user, name="Warehouse")
    response = admin_client.post(ADD_URL, _form(user, name="WAREHOUSE", **NO_INLINE_ROWS))
    assert response.status_code == status.HTTP_200_OK
    assert response.context["adminform"].form.errors == {"name": ["You already have a project with this name."]}
    assert Project.objects.count() == 1


def test_change_page_loads_with_the_experiments_inline(admin_client, user):
    project = ProjectFactory(owner=user)
    ExperimentFactory(owner=user, project=project, name="baseline")
    ExperimentFactory(owner=user, name="elsewhere")
    response = admin_client.get(change_url(project.pk))
    assert response.status_code == status.HTTP_200_OK
    content = response.content.decode()
    assert "baseline" in content
    assert "elsewhere" not in content
    _, inline = response.context["inline_admin_formsets"]
    assert [form.original.name for form in inline] == ["baseline"]
    # Read-only: nothing to add, delete or edit in the rows (only the hidden keys that tie them to the project).
    assert not inline.has_add_permission
    assert not inline.formset.can_delete
    assert all(field.is_hidden for field in inline.formset.forms[0])


def test_change_saves_and_keeps_the_experiments(admin_client, user, other_user):
    project = ProjectFactory(owner=user, name="warehouse", expiration_date=in_days(3))
    experiment = ExperimentFactory(owner=user, project=project)
    form = _form(
        other_user,
        name="lake",
        expiration_date=in_days(-3).isoformat(),
        **{
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
            "experiments-TOTAL_FORMS": "1",
            "experiments-INITIAL_FORMS": "1",
            "experiments-0-id": str(experiment.pk),
            "experiments-0-project": str(project.pk),
        },
    )
    response = admin_client.post(change_url(project.pk), form)
    assert response.status_code == status.HTTP_302_FOUND, response.context["adminform"].form.errors
    project.refresh_from_db()
    # The owner is read-only on the change page (a change of owner is a transfer), so the posted one is ignored.
    assert (project.name, project.owner, project.expiration_date) == ("lake", user, in_days(-3))
    assert Experiment.objects.get(pk=experiment.pk).project == project


def test_delete_keeps_the_experiments_unlinked(admin_client, user):
    project = ProjectFactory(owner=user)
    experiment = ExperimentFactory(owner=user, project=project)
    url = reverse("admin:projects_project_delete", args=[project.pk])
    assert admin_client.get(url).status_code == status.HTTP_200_OK
    assert admin_client.post(url, {"post": "yes"}).status_code == status.HTTP_302_FOUND
    assert not Project.objects.exists()
    assert Experiment.objects.get(pk=experiment.pk).project is None


def _send_now(admin_client, projects):
    return admin_client.post(
        CHANGELIST_URL,
        {"action": "send_reminders_now", "_selected_action": [project.pk for project in projects]},
        follow=True,
    )


@pytest.mark.django_db(transaction=True)
def test_send_reminders_now_mails_the_owners_of_the_selected_projects(admin_client, user, other_user):
    # Far from expiring and reminded already: "now" ignores both the window and the record.
    far = ProjectFactory(owner=user, name="far", expiration_date=in_days(90))
    Project.objects.filter(pk=far.pk).update(reminded_for_date=far.expiration_date)
    soon = ProjectFactory(owner=user, name="soon", expiration_date=in_days(2))
    theirs = ProjectFactory(owner=other_user, name="theirs", expiration_date=in_days(1))
    ProjectFactory(owner=other_user, name="not selected", expiration_date=in_days(1))
    ProjectFactory(owner=other_user, name="never", expiration_date=None)

    response = _send_now(admin_client, [far, soon, theirs, Project.objects.get(name="never")])

    assert response.status_code == status.HTTP_200_OK
    assert sorted(message.to[0] for message in mail.outbox) == sorted([user.email, other_user.email])
    (mine,) = [message for message in mail.outbox if message.to == [user.email]]
    assert "far" in mine.body and "soon" in mine.body
    (their_message,) = [message for message in mail.outbox if message.to == [other_user.email]]
    assert "not selected" not in their_message.body
    assert "never" not in their_message.body
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Reminded 2 owner(s) about 3 project(s)."
    ]
    assert Project.objects.get(pk=soon.pk).reminded_for_date == soon.expiration_date


@pytest.mark.django_db(transaction=True)
def test_send_reminders_now_queues_a_retry_for_a_failing_address(admin_client, user, other_user, monkeypatch):
    from django.core.mail import send_mail as real_send_mail

    def send_mail(*args, recipient_list, **kwargs):
        if user.email in recipient_list:
            raise ConnectionRefusedError("refused")
        return real_send_mail(*args, recipient_list=recipient_list, **kwargs)

    monkeypatch.setattr("common.mail.send_mail", send_mail)
    failing = ProjectFactory(owner=user, expiration_date=in_days(1))
    working = ProjectFactory(owner=other_user, expiration_date=in_days(1))

    response = _send_now(admin_client, [failing, working])

    assert [message.to for message in mail.outbox] == [[other_user.email]]
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Reminded 2 owner(s) about 2 project(s)."
    ]
    (retry,) = Schedule.objects.filter(func="common.mail.mail_send")
    assert repr([user.email]) in retry.kwargs
    assert Project.objects.get(pk=failing.pk).reminded_for_date == failing.expiration_date


def test_staff_bulk_delete_goes_through_the_service_and_keeps_projects_they_do_not_own(client, user):
    # Staff with the model's delete permission, but no role in the project: project_delete refuses them, and the
    # changelist's "delete selected" action must not skip that rule.
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_project", "delete_project"]))
    theirs, others = ProjectFactory(owner=staff), ProjectFactory(owner=user)
    client.force_login(staff)
    response = client.post(
        CHANGELIST_URL, {"action": "delete_selected", "_selected_action": [theirs.pk, others.pk], "post": "yes"}
    )
    assert response.status_code == status.HTTP_403_FORBIDDEN
    # All or none: their own project is kept too.
    assert set(Project.objects.values_list("pk", flat=True)) == {theirs.pk, others.pk}


def test_superuser_bulk_delete_deletes_the_selected_projects(admin_client, user):
    doomed, kept = ProjectFactory.create_batch(2, owner=user)
    response = admin_client.post(
        CHANGELIST_URL, {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"}
    )
    assert response.status_code == status.HTTP_302_FOUND
    assert list(Project.objects.values_list("pk", flat=True)) == [kept.pk]
