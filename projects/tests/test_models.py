from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from accounts.tests.factories import UserFactory
from experiments.tests.factories import ExperimentFactory
from projects.access import projects_allowing
from projects.models import Project
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def _today():
    return timezone.localdate()


def test_str_is_the_name():
    assert str(ProjectFactory(name="warehouse")) == "warehouse"


@pytest.mark.parametrize(
    ("offset", "expired"),
    [(None, False), (-1, True), (-30, True), (0, False), (1, False)],
    ids=["no date", "yesterday", "a month ago", "today", "tomorrow"],
)
def test_a_project_is_valid_through_its_expiration_date(offset, expired):
    date = None if offset is None else _today() + timedelta(days=offset)
    assert Project(expiration_date=date).is_expired is expired


def test_full_clean_trims_the_name(user):
    project = Project(owner=user, name="  warehouse \t")
    project.full_clean()
    assert project.name == "warehouse"


def test_a_name_of_255_characters_after_trimming_is_valid(user):
    project = Project(owner=user, name="  " + "n" * 255 + "  ")
    project.full_clean()
    assert project.name == "n" * 255


def test_a_name_of_256_characters_is_invalid(user):
    with pytest.raises(ValidationError) as excinfo:
        Project(owner=user, name="n" * 256).full_clean()
    assert set(excinfo.value.message_dict) == {"name"}


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_blank_name_is_invalid_with_one_message(user, name):
    with pytest.raises(ValidationError) as excinfo:
        Project(owner=user, name=name).full_clean()
    assert excinfo.value.message_dict == {"name": ["This field cannot be blank."]}


def test_a_new_project_cannot_be_already_expired(user):
    with pytest.raises(ValidationError) as excinfo:
        Project(owner=user, name="late", expiration_date=_today() - timedelta(days=1)).full_clean()
    assert excinfo.value.message_dict == {"expiration_date": ["A new project cannot be already expired."]}


def test_a_new_project_may_expire_today(user):
    Project(owner=user, name="today", expiration_date=_today()).full_clean()


def test_an_existing_project_may_keep_or_get_a_past_expiration_date():
    project = ProjectFactory(expiration_date=_today())
    project.expiration_date = _today() - timedelta(days=10)
    project.full_clean()


def test_names_clash_per_owner_case_insensitively(user):
    ProjectFactory(owner=user, name="Warehouse")
    with pytest.raises(ValidationError) as excinfo:
        Project(owner=user, name="wAREHOUSE").full_clean()
    assert excinfo.value.message_dict == {"name": ["You already have a project with this name."]}


def test_two_owners_may_use_the_same_name(user, other_user):
    ProjectFactory(owner=user, name="warehouse")
    Project(owner=other_user, name="Warehouse").full_clean()


def test_a_project_does_not_clash_with_itself(user):
    project = ProjectFactory(owner=user, name="Warehouse")
    project.name = "warehouse"
    project.full_clean()


def test_the_database_refuses_a_case_variant_of_a_name(user):
    ProjectFactory(owner=user, name="Warehouse")
    with pytest.raises(IntegrityError):
        ProjectFactory(owner=user, name="WAREHOUSE")


def test_default_ordering_is_newest_first(user):
    first, second, third = ProjectFactory.create_batch(3, owner=user)
    assert list(Project.objects.all()) == [third, second, first]


def test_visible_to_and_writable_by_are_the_owners_projects(user, other_user):
    mine = ProjectFactory(owner=user)
    ProjectFactory(owner=other_user)
    assert list(Project.objects.visible_to(user)) == [mine]
    assert list(projects_allowing(user, "add_experiment")) == [mine]


def test_anonymous_sees_and_writes_no_project():
    from django.contrib.auth.models import AnonymousUser

    ProjectFactory()
    assert not Project.objects.visible_to(AnonymousUser()).exists()
    assert not projects_allowing(AnonymousUser(), "add_experiment").exists()


def test_with_experiment_count_counts_each_projects_experiments(user):
    empty, busy = ProjectFactory.create_batch(2, owner=user)
    ExperimentFactory.create_batch(2, owner=user, project=busy)
    ExperimentFactory(owner=user)
    counts = dict(Project.objects.with_experiment_count().values_list("pk", "experiment_count"))
    assert counts == {empty.pk: 0, busy.pk: 2}


def test_deleting_the_owner_deletes_their_projects():
    owner = UserFactory()
    ProjectFactory.create_batch(2, owner=owner)
    owner.delete()
    assert not Project.objects.exists()
