import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects import services
from projects.models import Project
from projects.tests.factories import ProjectFactory
from registry.tests.support import in_days

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------------------------------
# Create, update, delete
# ---------------------------------------------------------------------------------------------------------------------


def test_project_create_saves_a_trimmed_project(user):
    project = services.project_create(owner=user, name="  warehouse ", description="d", expiration_date=in_days(30))
    stored = Project.objects.get(pk=project.pk)
    assert (stored.owner, stored.name, stored.description, stored.expiration_date) == (
        user,
        "warehouse",
        "d",
        in_days(30),
    )


def test_project_create_refuses_an_expired_project(user):
    with pytest.raises(ValidationError) as excinfo:
        services.project_create(owner=user, name="late", expiration_date=in_days(-1))
    assert set(excinfo.value.message_dict) == {"expiration_date"}
    assert not Project.objects.exists()


def test_project_create_accepts_an_expiration_date_of_today(user):
    assert services.project_create(owner=user, name="today", expiration_date=in_days(0)).expiration_date == in_days(0)


def test_project_create_refuses_a_case_variant_of_the_owners_name(user):
    ProjectFactory(owner=user, name="Warehouse")
    with pytest.raises(ValidationError):
        services.project_create(owner=user, name="warehouse")
    assert Project.objects.count() == 1


def test_project_create_lets_two_owners_share_a_name(user, other_user):
    services.project_create(owner=user, name="warehouse")
    services.project_create(owner=other_user, name="Warehouse")
    assert Project.objects.count() == 2


def test_a_create_that_loses_the_race_on_the_name_is_a_validation_error(user, monkeypatch):
    # Both requests passed their checks before either inserted: the database refuses the second row, and the
    # service reports that as the ValidationError the check would have raised, not as an IntegrityError.
    ProjectFactory(owner=user, name="Warehouse")
    monkeypatch.setattr(Project, "full_clean", lambda self, *args, **kwargs: None)
    with pytest.raises(ValidationError) as excinfo:
        services.project_create(owner=user, name="warehouse")
    assert excinfo.value.message_dict == {"name": ["You already have a project with this name."]}
    assert Project.objects.count() == 1


def test_an_update_that_loses_the_race_on_the_name_is_a_validation_error(user, monkeypatch):
    ProjectFactory(owner=user, name="Warehouse")
    project = ProjectFactory(owner=user, name="lake")
    monkeypatch.setattr(Project, "full_clean", lambda self, *args, **kwargs: None)
    with pytest.raises(ValidationError) as excinfo:
        services.project_update(project=project, actor=project.owner, name="WAREHOUSE")
    assert excinfo.value.message_dict == {"name": ["You already have a project with this name."]}
    assert Project.objects.get(pk=project.pk).name == "lake"


def test_project_update_changes_the_editable_fields():
    project = ProjectFactory(name="old", expiration_date=in_days(3))
    services.project_update(
        project=project, actor=project.owner, name=" new ", description="notes", expiration_date=None
    )
    stored = Project.objects.get(pk=project.pk)
    assert (stored.name, stored.description, stored.expiration_date) == ("new", "notes", None)


def test_project_update_may_set_a_past_expiration_date():
    project = ProjectFactory(expiration_date=in_days(3))
    services.project_update(project=project, actor=project.owner, expiration_date=in_days(-3))
    assert Project.objects.get(pk=project.pk).is_expired


def test_project_update_refuses_a_clashing_name(user):
    ProjectFactory(owner=user, name="Warehouse")
    project = ProjectFactory(owner=user, name="lake")
    with pytest.raises(ValidationError):
        services.project_update(project=project, actor=project.owner, name="warehouse")
    assert Project.objects.get(pk=project.pk).name == "lake"


def test_project_update_may_change_the_case_of_its_own_name(user):
    project = ProjectFactory(owner=user, name="warehouse")
    services.project_update(project=project, actor=project.owner, name="Warehouse")
    assert Project.objects.get(pk=project.pk).name == "Warehouse"


@pytest.mark.parametrize("field", ["owner", "reminded_for_date", "created_at", "id"])
def test_project_update_refuses_fields_it_does_not_edit(other_user, field):
    project = ProjectFactory()
    with pytest.raises(ValueError, match=field):
        services.project_update(project=project, actor=project.owner, **{field: other_user})


def test_project_delete_keeps_its_experiments_unlinked(user):
    project = ProjectFactory(owner=user)
    experiments = ExperimentFactory.create_batch(2, owner=user, project=project)
    other = ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    services.project_delete(project=project, actor=project.owner)
    assert not Project.objects.filter(pk=project.pk).exists()
    assert list(Experiment.objects.filter(pk__in=[e.pk for e in experiments]).values_list("project", flat=True)) == [
        None,
        None,
    ]
    assert Experiment.objects.get(pk=other.pk).project_id == other.project_id


# ---------------------------------------------------------------------------------------------------------------------
# Expiration reminders (the command's own tests are in test_commands.py)
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reminders_summary_counts_owners_and_projects(user, other_user):
    ProjectFactory.create_batch(2, owner=user, expiration_date=in_days(1))
    ProjectFactory(owner=other_user, expiration_date=in_days(7))
    summary = services.project_send_expiration_reminders()
    assert (summary.recipients, summary.items) == (2, 3)
    assert len(mail.outbox) == 2


@pytest.mark.django_db(transaction=True)
def test_reminders_default_window_comes_from_the_setting(user, settings):
    settings.EXPIRATION_REMINDER_DAYS = 30
    ProjectFactory(owner=user, expiration_date=in_days(30))
    assert services.project_send_expiration_reminders().items == 1


@pytest.mark.django_db(transaction=True)
def test_reminders_of_a_queryset_look_only_at_those_projects(user):
    wanted = ProjectFactory(owner=user, expiration_date=in_days(1))
    ProjectFactory(owner=user, expiration_date=in_days(1))
    summary = services.project_send_expiration_reminders(projects=Project.objects.filter(pk=wanted.pk))
    assert summary.items == 1
    assert wanted.name in mail.outbox[0].body


@pytest.mark.django_db(transaction=True)
def test_forced_reminders_ignore_the_window_and_the_record(user):
    far = ProjectFactory(owner=user, expiration_date=in_days(100))
    Project.objects.filter(pk=far.pk).update(reminded_for_date=far.expiration_date)
    ProjectFactory(owner=user, expiration_date=None)
    summary = services.project_send_expiration_reminders(projects=Project.objects.all(), force=True)
    assert (summary.recipients, summary.items) == (1, 1)
    assert far.name in mail.outbox[0].body
    assert Project.objects.get(pk=far.pk).reminded_for_date == far.expiration_date


@pytest.mark.django_db(transaction=True)
def test_forced_reminders_work_on_a_queryset_with_the_experiment_count(user):
    project = ProjectFactory(owner=user, expiration_date=in_days(100))
    ExperimentFactory.create_batch(2, owner=user, project=project)
    summary = services.project_send_expiration_reminders(
        projects=Project.objects.with_experiment_count().filter(pk=project.pk), force=True
    )
    assert summary.items == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_reminder_says_which_projects_expire_and_which_have_expired(user):
    expired = ProjectFactory(owner=user, name="old", expiration_date=in_days(0))
    Project.objects.filter(pk=expired.pk).update(expiration_date=in_days(-2))
    ProjectFactory(owner=user, name="soon", expiration_date=in_days(2))
    services.project_send_expiration_reminders()
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert f"- old expired on {in_days(-2).isoformat()}" in message.body
    assert f"- soon expires on {in_days(2).isoformat()}" in message.body
    assert message.body.index("- old") < message.body.index("- soon")


@pytest.mark.django_db(transaction=True)
def test_a_claimed_project_is_not_reminded_by_a_concurrent_run(user, monkeypatch):
    # Another run records the reminder between this run's read and its claim: this run must not send it again.
    project = ProjectFactory(owner=user, expiration_date=in_days(1))
    claim = services._claim

    def claimed_elsewhere(candidate, **fields):
        Project.objects.filter(pk=candidate.pk).update(reminded_for_date=candidate.expiration_date)
        return claim(candidate, **fields)

    monkeypatch.setattr(services, "_claim", claimed_elsewhere)
    summary = services.project_send_expiration_reminders()
    assert (summary.recipients, summary.items) == (0, 0)
    assert mail.outbox == []
    assert Project.objects.get(pk=project.pk).reminded_for_date == project.expiration_date
