"""Project sharing over HTTP: who may do what in a project and its experiments, by role."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.access import PROJECT_ACCESS
from projects.models import Project, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db

R = ProjectRole
S = Experiment.Status
PROJECTS_URL = reverse("project-list")
EXPERIMENTS_URL = reverse("experiment-list")


def project_url(pk: int) -> str:
    return reverse("project-detail", args=[pk])


def project_experiments_url(pk: int) -> str:
    return reverse("project-experiment-list", args=[pk])


def transfer_url(pk: int) -> str:
    return reverse("project-transfer", args=[pk])


def members_url(pk: int) -> str:
    return reverse("project-member-list", args=[pk])


def member_url(pk: int, user_id: int) -> str:
    return reverse("project-member-detail", args=[pk, user_id])


def experiment_url(pk: int) -> str:
    return reverse("experiment-detail", args=[pk])


def rerun_url(pk: int) -> str:
    return reverse("experiment-rerun", args=[pk])


def _ago(**delta) -> datetime:
    return timezone.now() - timedelta(**delta)


def _from_now(**delta) -> datetime:
    return timezone.now() + timedelta(**delta)


def _snapshot() -> dict:
    """Every project, membership and experiment as the database holds them, to show a refusal changed nothing."""
    return {
        "projects": list(Project.objects.order_by("pk").values()),
        "memberships": list(ProjectMembership.objects.order_by("pk").values()),
        "experiments": list(Experiment.objects.order_by("pk").values()),
    }


def _ids(response) -> list[int]:
    assert response.status_code == status.HTTP_200_OK, response.content
    return sorted(row["id"] for row in response.json())


def _errors(response) -> dict:
    assert response.status_code == status.HTTP_400_BAD_REQUEST, response.content
    return response.json()


def _membership(project: Project, user: User) -> ProjectMembership | None:
    return ProjectMembership.objects.filter(project=project, user=user).first()


# ---------------------------------------------------------------------------------------------------------------------
# The callers of the matrix
# ---------------------------------------------------------------------------------------------------------------------

# Every kind of caller, and the role each acts with: an expired membership and staff rights grant nothing.
EFFECTIVE_ROLE: dict[str, str | None] = {
    "none": None,
    "viewer": R.VIEWER,
    "editor": R.EDITOR,
    "maintainer": R.MAINTAINER,
    "owner": R.OWNER,
    "expired": None,
    "superuser": R.OWNER,
    "staff": None,
}
CALLERS = list(EFFECTIVE_ROLE)


def _make_caller(kind: str, project: Project) -> User:
    if kind in {R.VIEWER, R.EDITOR, R.MAINTAINER}:
        return ProjectMembershipFactory(project=project, role=kind).user
    if kind == "owner":
        return project.owner
    if kind == "expired":
        # The strongest member role, to show that expiry takes all of it away.
        return ProjectMembershipFactory(project=project, role=R.MAINTAINER, expires_at=_ago(minutes=1)).user
    if kind == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    if kind == "staff":
        return UserFactory(is_staff=True)
    assert kind == "none"
    return UserFactory()


@dataclass
class World:
    """A shared project and the people around it, seen by one caller."""

    # The kind of caller (a key of EFFECTIVE_ROLE).
    kind: str
    project: Project
    # In the project, completed so that it may be re-run; its owner (a former member) is none of the callers, so that
    # every caller acts on it by their role alone.
    experiment: Experiment
    # A viewer other than the caller, whom maintainers may change and remove.
    member: ProjectMembership
    # Someone with no access, to add as a member or to transfer the project to.
    newcomer: User
    caller: User
    # The caller's own experiment, outside any project.
    callers_experiment: Experiment
    # Someone else's project and experiments, which only a superuser sees.
    elsewhere: Project
    elsewhere_experiments: list[Experiment]
    # The owner's experiment outside any project: private to the owner.
    owners_private: Experiment

    @property
    def role(self) -> str | None:
        """The role the caller acts with."""
        return EFFECTIVE_ROLE[self.kind]


def _world(kind: str) -> World:
    owner = UserFactory(username="alice")
    project = ProjectFactory(owner=owner, name="warehouse", description="shared")
    experiment = ExperimentFactory(
        owner=UserFactory(username="former-member"),
        project=project,
        name="baseline",
        status=S.COMPLETED,
        started_at=_ago(hours=2),
        finished_at=_ago(hours=1),
    )
    member = ProjectMembershipFactory(project=project, role=R.VIEWER)
    owners_private = ExperimentFactory(owner=owner, name="alice's private")
    stranger = UserFactory()
    elsewhere = ProjectFactory(owner=stranger, name="elsewhere")
    elsewhere_experiments = [
        ExperimentFactory(owner=stranger, project=elsewhere, name="in elsewhere"),
        ExperimentFactory(owner=stranger, name="stranger's private"),
    ]
    caller = _make_caller(kind, project)
    callers_experiment = owners_private if caller == owner else ExperimentFactory(owner=caller, name="caller's own")
    return World(
        kind=kind,
        project=project,
        experiment=experiment,
        member=member,
        newcomer=UserFactory(username="newcomer"),
        caller=caller,
        callers_experiment=callers_experiment,
        elsewhere=elsewhere,
        elsewhere_experiments=elsewhere_experiments,
        owners_private=owners_private,
    )


@pytest.fixture
def world(request) -> World:
    return _world(request.param)


# ---------------------------------------------------------------------------------------------------------------------
# The matrix: every caller against every action
# ---------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """A request, the least role that may make it, and what it answers when allowed and when refused."""

    minimum: str
    allowed: int
    call: Callable[[APIClient, World], object]
    writes: bool = True
    # Creating in or moving into a project the caller may not write is an invalid choice of `project`, not a 403.
    refused: int = status.HTTP_403_FORBIDDEN


PROJECT_ACTIONS = {
    "retrieve": Action(R.VIEWER, status.HTTP_200_OK, lambda c, w: c.get(project_url(w.project.pk)), writes=False),
    "patch": Action(
        R.MAINTAINER, status.HTTP_200_OK, lambda c, w: c.patch(project_url(w.project.pk), {"description": "patched"})
    ),
    "put": Action(
        R.MAINTAINER,
        status.HTTP_200_OK,
        lambda c, w: c.put(
            project_url(w.project.pk), {"name": "replaced", "description": "replaced", "expiration_date": None}
        ),
    ),
    "delete": Action(R.OWNER, status.HTTP_204_NO_CONTENT, lambda c, w: c.delete(project_url(w.project.pk))),
    "transfer": Action(
        R.OWNER, status.HTTP_200_OK, lambda c, w: c.post(transfer_url(w.project.pk), {"user": w.newcomer.username})
    ),
    "experiments sub-list": Action(
        R.VIEWER, status.HTTP_200_OK, lambda c, w: c.get(project_experiments_url(w.project.pk)), writes=False
    ),
    "members list": Action(R.VIEWER, status.HTTP_200_OK, lambda c, w: c.get(members_url(w.project.pk)), writes=False),
    "member detail": Action(
        R.VIEWER,
        status.HTTP_200_OK,
        lambda c, w: c.get(member_url(w.project.pk, w.member.user_id)),
        writes=False,
    ),
    "add member": Action(
        R.MAINTAINER,
        status.HTTP_201_CREATED,
        lambda c, w: c.post(members_url(w.project.pk), {"user": w.newcomer.pk, "role": R.VIEWER}),
    ),
    "change member": Action(
        R.MAINTAINER,
        status.HTTP_200_OK,
        lambda c, w: c.patch(member_url(w.project.pk, w.member.user_id), {"role": R.EDITOR}),
    ),
    "remove member": Action(
        R.MAINTAINER, status.HTTP_204_NO_CONTENT, lambda c, w: c.delete(member_url(w.project.pk, w.member.user_id))
    ),
}

EXPERIMENT_ACTIONS = {
    "retrieve": Action(R.VIEWER, status.HTTP_200_OK, lambda c, w: c.get(experiment_url(w.experiment.pk)), writes=False),
    "patch": Action(
        R.EDITOR, status.HTTP_200_OK, lambda c, w: c.patch(experiment_url(w.experiment.pk), {"description": "patched"})
    ),
    "put": Action(
        R.EDITOR,
        status.HTTP_200_OK,
        lambda c, w: c.put(experiment_url(w.experiment.pk), {"name": "replaced", "description": "replaced"}),
    ),
    "rerun": Action(R.EDITOR, status.HTTP_200_OK, lambda c, w: c.post(rerun_url(w.experiment.pk))),
    "delete": Action(R.MAINTAINER, status.HTTP_204_NO_CONTENT, lambda c, w: c.delete(experiment_url(w.experiment.pk))),
    "create in project": Action(
        R.EDITOR,
        status.HTTP_201_CREATED,
        lambda c, w: c.post(EXPERIMENTS_URL, {"name": "new", "project": w.project.pk}),
        refused=status.HTTP_400_BAD_REQUEST,
    ),
    "move own into project": Action(
        R.EDITOR,
        status.HTTP_200_OK,
        lambda c, w: c.patch(experiment_url(w.callers_experiment.pk), {"project": w.project.pk}),
        refused=status.HTTP_400_BAD_REQUEST,
    ),
}


def _matrix(actions: dict[str, Action]) -> list:
    return [pytest.param(kind, name, id=f"{kind}-{name}") for kind in CALLERS for name in actions]


def _check(client_for, world: World, action: Action) -> None:
    """Make the request as the world's caller: an allowed write changes the database, a refusal changes nothing."""
    before = _snapshot()
    response = action.call(client_for(world.caller), world)
    if PROJECT_ACCESS.reaches(world.role, action.minimum):
        assert response.status_code == action.allowed, response.content
        assert (_snapshot() != before) == action.writes
    else:
        assert response.status_code == action.refused, response.content
        assert _snapshot() == before


@pytest.mark.parametrize(("world", "name"), _matrix(PROJECT_ACTIONS), indirect=["world"])
def test_project_actions_answer_by_role_and_refusals_change_nothing(client_for, world, name):
    _check(client_for, world, PROJECT_ACTIONS[name])


@pytest.mark.parametrize(("world", "name"), _matrix(EXPERIMENT_ACTIONS), indirect=["world"])
def test_experiment_actions_answer_by_role_and_refusals_change_nothing(client_for, world, name):
    _check(client_for, world, EXPERIMENT_ACTIONS[name])


ALL_ACTIONS = [pytest.param(PROJECT_ACTIONS, name, id=f"project {name}") for name in PROJECT_ACTIONS] + [
    pytest.param(EXPERIMENT_ACTIONS, name, id=f"experiment {name}") for name in EXPERIMENT_ACTIONS
]


@pytest.mark.parametrize(("actions", "name"), ALL_ACTIONS)
def test_anonymous_gets_401_on_every_action_and_nothing_changes(api_client, actions, name):
    world = _world("none")
    before = _snapshot()
    response = actions[name].call(api_client, world)
    assert response.status_code == status.HTTP_401_UNAUTHORIZED
    assert _snapshot() == before


# An id no row has, and one the database can hold.
MISSING = 2**31 - 1


@pytest.mark.parametrize(
    "call",
    [
        lambda c, w: c.get(project_url(MISSING)),
        lambda c, w: c.post(transfer_url(MISSING), {"user": w.newcomer.pk}),
        lambda c, w: c.get(members_url(MISSING)),
        lambda c, w: c.post(members_url(MISSING), {"user": w.newcomer.pk, "role": R.VIEWER}),
        lambda c, w: c.patch(member_url(MISSING, w.member.user_id), {"role": R.EDITOR}),
        lambda c, w: c.delete(member_url(MISSING, w.member.user_id)),
        lambda c, w: c.get(member_url(w.project.pk, w.newcomer.pk)),
        lambda c, w: c.patch(member_url(w.project.pk, w.newcomer.pk), {"role": R.EDITOR}),
        lambda c, w: c.delete(member_url(w.project.pk, w.newcomer.pk)),
        lambda c, w: c.get(member_url(w.project.pk, 10**30)),
        lambda c, w: c.delete(member_url(w.project.pk, 10**30)),
        lambda c, w: c.get(members_url(10**30)),
    ],
    ids=[
        "project",
        "transfer",
        "members list",
        "add member",
        "change member",
        "remove member",
        "member detail of a non-member",
        "change a non-member",
        "remove a non-member",
        "member id too large for the database",
        "remove a member id too large for the database",
        "project id too large for the database",
    ],
)
def test_a_missing_project_or_member_answers_404_to_the_owner(client_for, call):
    world = _world("owner")
    before = _snapshot()
    assert call(client_for(world.caller), world).status_code == status.HTTP_404_NOT_FOUND
    assert _snapshot() == before


def test_the_owner_is_not_a_member_so_a_maintainer_cannot_change_or_remove_them(client_for):
    world = _world(R.MAINTAINER)
    client = client_for(world.caller)
    before = _snapshot()
    owner_url = member_url(world.project.pk, world.project.owner_id)
    assert client.get(owner_url).status_code == status.HTTP_404_NOT_FOUND
    assert client.patch(owner_url, {"role": R.VIEWER}).status_code == status.HTTP_404_NOT_FOUND
    assert client.delete(owner_url).status_code == status.HTTP_404_NOT_FOUND
    assert _snapshot() == before


@pytest.mark.parametrize("kind", CALLERS)
def test_put_on_a_member_is_405_and_so_is_a_write_to_the_members_list(client_for, kind):
    world = _world(kind)
    client = client_for(world.caller)
    before = _snapshot()
    assert client.put(member_url(world.project.pk, world.member.user_id), {"role": R.EDITOR}).status_code == 405
    assert client.patch(members_url(world.project.pk), {"role": R.EDITOR}).status_code == 405
    assert client.delete(members_url(world.project.pk)).status_code == 405
    assert _snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Lists for each caller
# ---------------------------------------------------------------------------------------------------------------------


def _visible_projects(world: World) -> list[tuple[int, str]]:
    """The rows of GET /projects/ the caller should get: (id, role)."""
    if world.kind == "superuser":
        return sorted([(world.project.pk, R.OWNER), (world.elsewhere.pk, R.OWNER)])
    return [(world.project.pk, world.role)] if world.role else []


def _visible_experiments(world: World) -> list[int]:
    if world.kind == "superuser":
        return sorted(Experiment.objects.values_list("pk", flat=True))
    visible = {world.callers_experiment.pk}
    if world.role:
        visible.update(Experiment.objects.filter(project=world.project).values_list("pk", flat=True))
    return sorted(visible)


@pytest.mark.parametrize("kind", CALLERS)
def test_project_list_holds_exactly_the_visible_projects_with_the_callers_role(client_for, kind):
    world = _world(kind)
    response = client_for(world.caller).get(PROJECTS_URL)
    assert response.status_code == status.HTTP_200_OK
    assert sorted((row["id"], row["role"]) for row in response.json()) == _visible_projects(world)
    assert response["X-Total-Count"] == str(len(_visible_projects(world)))


@pytest.mark.parametrize("kind", CALLERS)
def test_project_detail_shows_the_callers_role(client_for, kind):
    world = _world(kind)
    response = client_for(world.caller).get(project_url(world.project.pk))
    if world.role:
        assert response.json()["role"] == world.role
    else:
        assert response.status_code == status.HTTP_403_FORBIDDEN


@pytest.mark.parametrize("kind", CALLERS)
def test_experiment_list_holds_own_experiments_and_those_of_visible_projects(client_for, kind):
    world = _world(kind)
    assert _ids(client_for(world.caller).get(EXPERIMENTS_URL)) == _visible_experiments(world)


@pytest.mark.parametrize("kind", CALLERS)
def test_mine_filter_splits_the_experiment_list_into_own_and_others(client_for, kind):
    world = _world(kind)
    # Someone else's experiment in the project, so that even the owner sees others' experiments.
    ExperimentFactory(owner=world.member.user, project=world.project)
    client = client_for(world.caller)
    own = sorted(Experiment.objects.filter(owner=world.caller).values_list("pk", flat=True))
    others = [pk for pk in _visible_experiments(world) if pk not in own]
    assert own and (others or not world.role)
    assert _ids(client.get(EXPERIMENTS_URL, {"mine": "true"})) == own
    assert _ids(client.get(EXPERIMENTS_URL, {"mine": "false"})) == others


@pytest.mark.parametrize("value", ["yes", "1", "all"])
def test_junk_mine_filter_is_400(user_client, value):
    assert set(_errors(user_client.get(EXPERIMENTS_URL, {"mine": value}))) == {"mine"}


@pytest.mark.parametrize("kind", CALLERS)
def test_project_experiments_sub_list_shows_every_experiment_of_the_project_to_viewers_and_up(client_for, kind):
    world = _world(kind)
    mine = ExperimentFactory(owner=world.caller, project=world.project, name="the caller's, in the project")
    response = client_for(world.caller).get(project_experiments_url(world.project.pk))
    if world.role:
        assert _ids(response) == sorted([world.experiment.pk, mine.pk])
    else:
        assert response.status_code == status.HTTP_403_FORBIDDEN


@pytest.fixture
def by_role(user) -> dict[str, Project]:
    """A project in which `user` has each role, and one where their membership has expired."""
    projects = {"owner": ProjectFactory(owner=user, name="owned")}
    for role in (R.MAINTAINER, R.EDITOR, R.VIEWER):
        projects[role] = ProjectMembershipFactory(user=user, role=role, project__name=role).project
    projects["expired"] = ProjectMembershipFactory(
        user=user, role=R.MAINTAINER, expires_at=_ago(seconds=1), project__name="expired"
    ).project
    ProjectFactory(name="someone else's")
    return projects


def _roles(response) -> dict[str, str]:
    assert response.status_code == status.HTTP_200_OK, response.content
    return {row["name"]: row["role"] for row in response.json()}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"owned": "owner", "maintainer": "maintainer", "editor": "editor", "viewer": "viewer"}),
        ("owner", {"owned": "owner"}),
        ("maintainer", {"maintainer": "maintainer"}),
        ("editor", {"editor": "editor"}),
        ("viewer", {"viewer": "viewer"}),
        ("maintainer,editor", {"maintainer": "maintainer", "editor": "editor"}),
        ("owner,viewer", {"owned": "owner", "viewer": "viewer"}),
    ],
)
def test_role_filter_takes_one_or_more_roles(user_client, by_role, value, expected):
    assert _roles(user_client.get(PROJECTS_URL, {} if value is None else {"role": value})) == expected


@pytest.mark.parametrize("value", ["admin", "Owner", "owner,admin", "none", ""])
def test_unknown_role_filter_is_400(user_client, by_role, value):
    assert set(_errors(user_client.get(PROJECTS_URL, {"role": value}))) == {"role"}


def test_role_filter_combines_with_the_other_filters(user_client, by_role):
    assert _roles(user_client.get(PROJECTS_URL, {"role": "owner,editor", "search": "EDIT"})) == {"editor": "editor"}


# ---------------------------------------------------------------------------------------------------------------------
# The experiment's own owner, and experiments outside any project
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["none", "viewer", "editor", "expired"])
def test_the_experiments_owner_has_full_rights_on_it_whatever_their_project_role(client_for, kind):
    # An experiment the caller created in the project, e.g. as an editor before being made a viewer, or removed.
    world = _world(kind)
    own = ExperimentFactory(
        owner=world.caller, project=world.project, status=S.FAILED, started_at=_ago(hours=2), finished_at=_ago(hours=1)
    )
    client = client_for(world.caller)
    assert client.get(experiment_url(own.pk)).status_code == status.HTTP_200_OK
    assert client.patch(experiment_url(own.pk), {"description": "mine"}).status_code == status.HTTP_200_OK
    assert client.post(rerun_url(own.pk)).status_code == status.HTTP_200_OK
    assert client.delete(experiment_url(own.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert not Experiment.objects.filter(pk=own.pk).exists()


def test_an_editor_deletes_their_own_experiment_in_the_project_but_not_anothers(client_for):
    world = _world(R.EDITOR)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    client = client_for(world.caller)
    assert client.delete(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.delete(experiment_url(own.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert list(Experiment.objects.filter(project=world.project)) == [world.experiment]


@pytest.mark.parametrize("kind", ["none", "viewer", "editor", "maintainer", "owner", "expired", "staff"])
def test_an_experiment_outside_any_project_stays_private_to_its_owner(client_for, kind):
    world = _world(kind)
    private = world.elsewhere_experiments[1]
    client = client_for(world.caller)
    before = _snapshot()
    assert client.get(experiment_url(private.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.patch(experiment_url(private.pk), {"name": "taken"}).status_code == status.HTTP_403_FORBIDDEN
    assert client.delete(experiment_url(private.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer"])
def test_members_do_not_see_the_owners_experiments_outside_the_project(client_for, kind):
    world = _world(kind)
    client = client_for(world.caller)
    assert world.owners_private.pk not in _ids(client.get(EXPERIMENTS_URL))
    assert client.get(experiment_url(world.owners_private.pk)).status_code == status.HTTP_403_FORBIDDEN


@pytest.mark.parametrize(("kind", "expected"), [("viewer", 403), ("editor", 400), ("maintainer", 400)])
def test_only_the_experiments_owner_moves_it_out_of_the_project(client_for, kind, expected):
    # Moving would take it where the project's members cannot see it, or show it to people its owner never chose.
    world = _world(kind)
    response = client_for(world.caller).patch(experiment_url(world.experiment.pk), {"project": None})
    assert response.status_code == expected
    if expected == 400:
        assert set(_errors(response)) == {"project"}
    assert Experiment.objects.get(pk=world.experiment.pk).project == world.project


def test_the_experiments_owner_moves_it_out_of_the_project(client_for):
    world = _world(R.VIEWER)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    response = client_for(world.caller).patch(experiment_url(own.pk), {"project": None})
    assert response.status_code == status.HTTP_200_OK
    assert Experiment.objects.get(pk=own.pk).project is None


def test_an_editor_cannot_move_an_experiment_into_a_project_where_they_only_view(client_for):
    world = _world(R.EDITOR)
    viewed = ProjectMembershipFactory(user=world.caller, role=R.VIEWER).project
    response = client_for(world.caller).patch(experiment_url(world.experiment.pk), {"project": viewed.pk})
    assert set(_errors(response)) == {"project"}
    assert Experiment.objects.get(pk=world.experiment.pk).project == world.project


def test_a_viewer_may_send_back_the_project_an_experiment_already_is_in(client_for):
    world = _world(R.VIEWER)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    response = client_for(world.caller).patch(experiment_url(own.pk), {"project": world.project.pk, "name": "kept"})
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["project"] == world.project.pk


# ---------------------------------------------------------------------------------------------------------------------
# Members: reading, adding, and the `user` field
# ---------------------------------------------------------------------------------------------------------------------

MEMBER_FIELDS = {"user", "role", "added_by", "created_at", "updated_at", "expires_at"}


def test_members_list_shows_each_member_with_their_role_and_who_added_them(client_for):
    world = _world(R.VIEWER)
    later = _from_now(days=30)
    editor = ProjectMembershipFactory(project=world.project, role=R.EDITOR, expires_at=later)
    response = client_for(world.caller).get(members_url(world.project.pk))
    assert response.status_code == status.HTTP_200_OK
    rows = {row["user"]["id"]: row for row in response.json()}
    assert set(rows) == {world.caller.pk, world.member.user_id, editor.user_id}
    row = rows[editor.user_id]
    assert set(row) == MEMBER_FIELDS
    assert row["user"] == {"id": editor.user.pk, "username": editor.user.username, "full_name": editor.user.full_name}
    assert row["role"] == R.EDITOR
    assert row["added_by"]["id"] == world.project.owner_id
    assert row["expires_at"] == later.isoformat().replace("+00:00", "Z")


def test_members_list_shows_expired_memberships_so_that_maintainers_can_renew_them(client_for):
    world = _world(R.MAINTAINER)
    expired = ProjectMembershipFactory(project=world.project, role=R.EDITOR, expires_at=_ago(days=1))
    rows = {row["user"]["id"]: row for row in client_for(world.caller).get(members_url(world.project.pk)).json()}
    assert rows[expired.user_id]["expires_at"] is not None
    renewed = _from_now(days=7)
    response = client_for(world.caller).patch(member_url(world.project.pk, expired.user_id), {"expires_at": renewed})
    assert response.status_code == status.HTTP_200_OK
    assert ProjectMembership.objects.get(pk=expired.pk).expires_at == renewed


@pytest.mark.parametrize("kind", ["maintainer", "owner", "superuser"])
def test_add_member_answers_201_with_the_member_and_its_location(client_for, kind):
    world = _world(kind)
    expires = _from_now(days=30)
    response = client_for(world.caller).post(
        members_url(world.project.pk), {"user": world.newcomer.username, "role": R.EDITOR, "expires_at": expires}
    )
    assert response.status_code == status.HTTP_201_CREATED, response.content
    assert response["Location"] == f"http://testserver{member_url(world.project.pk, world.newcomer.pk)}"
    data = response.json()
    assert set(data) == MEMBER_FIELDS
    assert data["user"]["id"] == world.newcomer.pk
    assert (data["role"], data["added_by"]["id"]) == (R.EDITOR, world.caller.pk)
    membership = ProjectMembership.objects.get(project=world.project, user=world.newcomer)
    assert (membership.role, membership.added_by, membership.expires_at) == (R.EDITOR, world.caller, expires)


def _newcomer_reference(world: World, how: str):
    user = world.newcomer
    return {
        "id": user.pk,
        "username": user.username,
        "username in upper case": user.username.upper(),
        "username with spaces around": f"  {user.username} ",
        "email": user.email,
        "email in mixed case": user.email.title(),
    }[how]


@pytest.mark.parametrize(
    "how",
    [
        "id",
        "username",
        "username in upper case",
        "username with spaces around",
        "email",
        "email in mixed case",
    ],
)
def test_the_user_to_add_is_named_by_id_username_or_email(client_for, how):
    world = _world(R.OWNER)
    body = {"user": _newcomer_reference(world, how), "role": R.VIEWER}
    response = client_for(world.caller).post(members_url(world.project.pk), body)
    assert response.status_code == status.HTTP_201_CREATED, response.content
    assert response.json()["user"]["id"] == world.newcomer.pk


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"user": "nobody", "role": R.VIEWER}, "user"),
        ({"user": "nobody@example.com", "role": R.VIEWER}, "user"),
        ({"user": MISSING, "role": R.VIEWER}, "user"),
        ({"user": "", "role": R.VIEWER}, "user"),
        ({"user": True, "role": R.VIEWER}, "user"),
        ({"user": None, "role": R.VIEWER}, "user"),
        ({"user": ["newcomer"], "role": R.VIEWER}, "user"),
        ({"role": R.VIEWER}, "user"),
        ({"user": "newcomer"}, "role"),
        ({"user": "newcomer", "role": "admin"}, "role"),
        ({"user": "newcomer", "role": R.OWNER}, "role"),
        ({"user": "newcomer", "role": R.VIEWER, "expires_at": "soon"}, "expires_at"),
    ],
)
def test_add_member_with_a_bad_body_is_400(client_for, body, field):
    world = _world(R.OWNER)
    before = _snapshot()
    assert field in _errors(client_for(world.caller).post(members_url(world.project.pk), body, format="json"))
    assert _snapshot() == before


def test_an_inactive_user_cannot_be_added(client_for):
    world = _world(R.OWNER)
    User.objects.filter(pk=world.newcomer.pk).update(is_active=False)
    body = {"user": world.newcomer.username, "role": R.VIEWER}
    assert set(_errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}


@pytest.mark.parametrize("when", [{"seconds": 1}, {"days": 1}], ids=["a second ago", "yesterday"])
def test_add_member_with_an_expiry_in_the_past_is_400(client_for, when):
    world = _world(R.MAINTAINER)
    body = {"user": world.newcomer.pk, "role": R.VIEWER, "expires_at": _ago(**when)}
    assert set(_errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"expires_at"}
    assert _membership(world.project, world.newcomer) is None


@pytest.mark.parametrize("kind", ["maintainer", "owner"])
def test_adding_the_owner_is_400(client_for, kind):
    world = _world(kind)
    before = _snapshot()
    body = {"user": world.project.owner.email, "role": R.VIEWER}
    assert set(_errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}
    assert _snapshot() == before


def test_adding_someone_who_is_already_a_member_is_400(client_for):
    world = _world(R.OWNER)
    before = _snapshot()
    body = {"user": world.member.user.username, "role": R.EDITOR}
    assert set(_errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}
    assert _snapshot() == before


def test_the_same_user_may_be_a_member_of_several_projects(client_for):
    world = _world(R.OWNER)
    other = ProjectFactory(owner=world.caller)
    body = {"user": world.member.user_id, "role": R.EDITOR}
    assert client_for(world.caller).post(members_url(other.pk), body).status_code == status.HTTP_201_CREATED
    assert ProjectMembership.objects.filter(user=world.member.user).count() == 2


# ---------------------------------------------------------------------------------------------------------------------
# Role escalation
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["viewer", "editor"])
@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_viewers_and_editors_cannot_add_members_even_below_themselves(client_for, kind, role):
    world = _world(kind)
    before = _snapshot()
    response = client_for(world.caller).post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": role})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_a_maintainer_may_add_members_up_to_maintainer(client_for, role):
    world = _world(R.MAINTAINER)
    response = client_for(world.caller).post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": role})
    assert response.status_code == status.HTTP_201_CREATED
    assert _membership(world.project, world.newcomer).role == role


@pytest.mark.parametrize("kind", ["maintainer", "owner"])
def test_nobody_grants_owner_through_membership(client_for, kind):
    world = _world(kind)
    client = client_for(world.caller)
    before = _snapshot()
    added = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.OWNER})
    assert set(_errors(added)) == {"role"}
    changed = client.patch(member_url(world.project.pk, world.member.user_id), {"role": R.OWNER})
    assert set(_errors(changed)) == {"role"}
    assert _snapshot() == before


@pytest.mark.parametrize("target_role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
@pytest.mark.parametrize("new_role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_a_maintainer_may_change_any_member_to_any_member_role(client_for, target_role, new_role):
    world = _world(R.MAINTAINER)
    target = ProjectMembershipFactory(project=world.project, role=target_role)
    response = client_for(world.caller).patch(member_url(world.project.pk, target.user_id), {"role": new_role})
    assert response.status_code == status.HTTP_200_OK, response.content
    assert response.json()["role"] == new_role
    assert ProjectMembership.objects.get(pk=target.pk).role == new_role


def test_a_maintainer_may_remove_another_maintainer(client_for):
    world = _world(R.MAINTAINER)
    peer = ProjectMembershipFactory(project=world.project, role=R.MAINTAINER)
    response = client_for(world.caller).delete(member_url(world.project.pk, peer.user_id))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert not ProjectMembership.objects.filter(pk=peer.pk).exists()


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer"])
@pytest.mark.parametrize(
    "body",
    [{"role": R.VIEWER}, {"role": R.EDITOR}, {"role": R.MAINTAINER}, {"expires_at": None}],
    ids=["viewer", "editor", "maintainer", "expiry"],
)
def test_no_member_changes_their_own_membership(client_for, kind, body):
    world = _world(kind)
    ProjectMembership.objects.filter(project=world.project, user=world.caller).update(expires_at=_from_now(days=3))
    before = _snapshot()
    response = client_for(world.caller).patch(member_url(world.project.pk, world.caller.pk), body)
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


def test_an_editor_cannot_grant_editor(client_for):
    world = _world(R.EDITOR)
    client = client_for(world.caller)
    before = _snapshot()
    added = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.EDITOR})
    assert added.status_code == status.HTTP_403_FORBIDDEN
    changed = client.patch(member_url(world.project.pk, world.member.user_id), {"role": R.EDITOR})
    assert changed.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor"])
def test_viewers_and_editors_cannot_remove_other_members(client_for, kind):
    world = _world(kind)
    before = _snapshot()
    response = client_for(world.caller).delete(member_url(world.project.pk, world.member.user_id))
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


def test_the_user_in_a_patch_body_is_ignored(client_for):
    world = _world(R.MAINTAINER)
    body = {"user": world.newcomer.pk, "role": R.EDITOR, "added_by": world.newcomer.pk}
    response = client_for(world.caller).patch(member_url(world.project.pk, world.member.user_id), body)
    assert response.status_code == status.HTTP_200_OK
    membership = ProjectMembership.objects.get(pk=world.member.pk)
    assert (membership.user, membership.role, membership.added_by) == (world.member.user, R.EDITOR, world.project.owner)
    assert _membership(world.project, world.newcomer) is None


def test_change_member_with_a_past_expiry_is_400(client_for):
    world = _world(R.OWNER)
    before = _snapshot()
    response = client_for(world.caller).patch(
        member_url(world.project.pk, world.member.user_id), {"expires_at": _ago(minutes=1)}
    )
    assert set(_errors(response)) == {"expires_at"}
    assert _snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Leaving
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer"])
def test_each_member_may_leave_and_then_loses_access(client_for, kind):
    world = _world(kind)
    client = client_for(world.caller)
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK
    response = client.delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert _membership(world.project, world.caller) is None
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(members_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert _ids(client.get(PROJECTS_URL)) == []
    assert _ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]


def test_the_owner_cannot_leave_their_own_project(client_for):
    world = _world(R.OWNER)
    response = client_for(world.caller).delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert Project.objects.get(pk=world.project.pk).owner == world.caller


# ---------------------------------------------------------------------------------------------------------------------
# Expiry
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_an_expired_membership_grants_nothing(client_for, role):
    world = _world("none")
    ProjectMembershipFactory(project=world.project, user=world.caller, role=role, expires_at=_ago(seconds=1))
    client = client_for(world.caller)
    assert _ids(client.get(PROJECTS_URL)) == []
    assert _ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]
    for url in (
        project_url(world.project.pk),
        project_experiments_url(world.project.pk),
        members_url(world.project.pk),
        experiment_url(world.experiment.pk),
    ):
        assert client.get(url).status_code == status.HTTP_403_FORBIDDEN, url
    create = client.post(EXPERIMENTS_URL, {"name": "new", "project": world.project.pk})
    assert set(_errors(create)) == {"project"}


def test_a_membership_with_a_future_expiry_grants_its_role(client_for):
    world = _world("none")
    ProjectMembershipFactory(project=world.project, user=world.caller, role=R.EDITOR, expires_at=_from_now(minutes=1))
    client = client_for(world.caller)
    assert [row["role"] for row in client.get(PROJECTS_URL).json()] == [R.EDITOR]
    assert client.patch(experiment_url(world.experiment.pk), {"name": "edited"}).status_code == status.HTTP_200_OK


def test_access_vanishes_when_the_membership_expires(client_for, time_machine):
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    world = _world("none")
    ProjectMembershipFactory(
        project=world.project, user=world.caller, role=R.MAINTAINER, expires_at=start + timedelta(minutes=10)
    )
    # A token lives 15 minutes, so the one client outlives the membership.
    client = client_for(world.caller)
    assert _ids(client.get(PROJECTS_URL)) == [world.project.pk]
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_200_OK

    time_machine.move_to(start + timedelta(minutes=9, seconds=59), tick=False)
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK

    time_machine.move_to(start + timedelta(minutes=10), tick=False)
    assert _ids(client.get(PROJECTS_URL)) == []
    assert _ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    before = _snapshot()
    response = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.VIEWER})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


def test_renewing_an_expired_membership_restores_access(client_for):
    world = _world(R.OWNER)
    ProjectMembership.objects.filter(pk=world.member.pk).update(expires_at=_ago(days=1))
    member = client_for(world.member.user)
    assert member.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    renew = client_for(world.caller).patch(member_url(world.project.pk, world.member.user_id), {"expires_at": None})
    assert renew.status_code == status.HTTP_200_OK
    assert member.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK


# ---------------------------------------------------------------------------------------------------------------------
# Transfer
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("new_owner_role", [None, R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_transfer_makes_the_new_owner_owner_and_keeps_the_old_one_as_maintainer(client_for, new_owner_role):
    world = _world(R.OWNER)
    alice = world.caller
    if new_owner_role:
        ProjectMembershipFactory(project=world.project, user=world.newcomer, role=new_owner_role)
    response = client_for(alice).post(transfer_url(world.project.pk), {"user": world.newcomer.email})
    assert response.status_code == status.HTTP_200_OK, response.content
    data = response.json()
    assert (data["id"], data["owner"], data["role"]) == (world.project.pk, world.newcomer.pk, R.MAINTAINER)

    assert Project.objects.get(pk=world.project.pk).owner == world.newcomer
    assert _membership(world.project, world.newcomer) is None
    kept = _membership(world.project, alice)
    assert (kept.role, kept.added_by) == (R.MAINTAINER, alice)
    # The other members stay as they were.
    assert ProjectMembership.objects.get(pk=world.member.pk).role == R.VIEWER

    assert client_for(world.newcomer).get(project_url(world.project.pk)).json()["role"] == R.OWNER
    roles = {row["id"]: row["role"] for row in client_for(alice).get(PROJECTS_URL).json()}
    assert roles == {world.project.pk: R.MAINTAINER}
    assert client_for(alice).delete(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN


def test_after_a_transfer_the_new_owner_may_remove_the_old_one(client_for):
    world = _world(R.OWNER)
    client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.newcomer.pk})
    response = client_for(world.newcomer).delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert client_for(world.caller).get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN


def test_a_superuser_transfers_and_the_old_owner_stays_as_maintainer(client_for):
    world = _world("superuser")
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.newcomer.pk})
    assert response.status_code == status.HTTP_200_OK
    assert (response.json()["owner"], response.json()["role"]) == (world.newcomer.pk, R.OWNER)
    kept = _membership(world.project, world.project.owner)
    assert (kept.role, kept.added_by) == (R.MAINTAINER, world.caller)
    assert _membership(world.project, world.caller) is None


def test_transfer_to_someone_who_has_a_project_of_that_name_is_400_and_changes_nothing(client_for):
    world = _world(R.OWNER)
    ProjectMembershipFactory(project=world.project, user=world.newcomer, role=R.EDITOR)
    ProjectFactory(owner=world.newcomer, name=world.project.name.upper())
    before = _snapshot()
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.newcomer.pk})
    assert set(_errors(response)) == {"user"}
    assert _snapshot() == before


@pytest.mark.parametrize(
    "user",
    [lambda w: "nobody", lambda w: MISSING, lambda w: "", lambda w: None, lambda w: w.project.owner.username],
    ids=["unknown username", "unknown id", "blank", "null", "the current owner"],
)
def test_transfer_to_an_unknown_user_or_the_current_owner_is_400(client_for, user):
    world = _world(R.OWNER)
    before = _snapshot()
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": user(world)}, format="json")
    assert set(_errors(response)) == {"user"}
    assert _snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer", "expired", "none", "staff"])
def test_only_the_owner_may_transfer(client_for, kind):
    world = _world(kind)
    before = _snapshot()
    # Even to themself.
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.caller.pk})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert _snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Queries do not grow with the rows
# ---------------------------------------------------------------------------------------------------------------------


def _shared_project(caller: User, role: str) -> Project:
    """A project shared with `caller` and three other members, holding two experiments."""
    project = ProjectFactory()
    ProjectMembershipFactory(project=project, user=caller, role=role)
    for member_role in (R.VIEWER, R.EDITOR, R.MAINTAINER):
        ProjectMembershipFactory(project=project, role=member_role)
    ExperimentFactory.create_batch(2, owner=project.owner, project=project)
    return project


def test_project_list_queries_do_not_grow_with_shared_projects(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    _shared_project(user, R.VIEWER)
    with django_assert_max_num_queries(5) as one_project:
        assert len(user_client.get(PROJECTS_URL).json()) == 1
    for role in [R.VIEWER, R.EDITOR, R.MAINTAINER] * 3:
        _shared_project(user, role)
    with django_assert_num_queries(len(one_project)):
        data = user_client.get(PROJECTS_URL).json()
    assert len(data) == 10
    assert {row["experiment_count"] for row in data} == {2}


def test_experiment_list_queries_do_not_grow_with_shared_projects(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    _shared_project(user, R.VIEWER)
    with django_assert_max_num_queries(5) as one_project:
        assert len(user_client.get(EXPERIMENTS_URL).json()) == 2
    for role in [R.VIEWER, R.EDITOR, R.MAINTAINER] * 3:
        _shared_project(user, role)
    with django_assert_num_queries(len(one_project)):
        assert len(user_client.get(EXPERIMENTS_URL).json()) == 20


def test_members_list_queries_do_not_grow_with_the_members(
    user, user_client, django_assert_max_num_queries, django_assert_num_queries
):
    project = _shared_project(user, R.VIEWER)
    with django_assert_max_num_queries(5) as four_members:
        assert len(user_client.get(members_url(project.pk)).json()) == 4
    adder = UserFactory()
    ProjectMembershipFactory.create_batch(6, project=project, role=R.EDITOR, added_by=adder)
    ProjectMembershipFactory.create_batch(2, project=project, role=R.EDITOR, added_by=None)
    with django_assert_num_queries(len(four_members)):
        assert len(user_client.get(members_url(project.pk)).json()) == 12


# ---------------------------------------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------------------------------------


def test_alice_shares_a_project_with_bob_and_carol_sees_nothing(client_for):
    alice, bob, carol = (UserFactory(username=name) for name in ("alice", "bob", "carol"))
    as_alice, as_bob, as_carol = client_for(alice), client_for(bob), client_for(carol)

    project = as_alice.post(PROJECTS_URL, {"name": "warehouse"})
    assert project.status_code == status.HTTP_201_CREATED
    project_id = project.json()["id"]
    experiment_ids = []
    for name in ("baseline", "tuned"):
        created = as_alice.post(EXPERIMENTS_URL, {"name": name, "project": project_id})
        assert created.status_code == status.HTTP_201_CREATED
        experiment_ids.append(created.json()["id"])
    added = as_alice.post(members_url(project_id), {"user": "bob", "role": "viewer"})
    assert added.status_code == status.HTTP_201_CREATED

    # Bob, a viewer, reads both experiments but may not change them.
    assert _ids(as_bob.get(EXPERIMENTS_URL)) == experiment_ids
    for experiment_id in experiment_ids:
        assert as_bob.get(experiment_url(experiment_id)).status_code == status.HTTP_200_OK
    before = _snapshot()
    assert as_bob.patch(experiment_url(experiment_ids[0]), {"name": "bob's"}).status_code == 403
    assert _snapshot() == before

    # Alice makes bob an editor: now he changes an experiment and adds one.
    promoted = as_alice.patch(member_url(project_id, bob.pk), {"role": "editor"})
    assert (promoted.status_code, promoted.json()["role"]) == (status.HTTP_200_OK, "editor")
    patched = as_bob.patch(experiment_url(experiment_ids[0]), {"name": "bob's"})
    assert (patched.status_code, patched.json()["name"]) == (status.HTTP_200_OK, "bob's")
    bobs = as_bob.post(EXPERIMENTS_URL, {"name": "bob's own", "project": project_id})
    assert bobs.status_code == status.HTTP_201_CREATED
    assert bobs.json()["owner"] == bob.pk
    experiment_ids.append(bobs.json()["id"])
    assert _ids(as_alice.get(project_experiments_url(project_id))) == experiment_ids
    assert [row["role"] for row in as_bob.get(PROJECTS_URL).json()] == ["editor"]

    # Carol, with no membership, sees none of it.
    assert _ids(as_carol.get(PROJECTS_URL)) == []
    assert _ids(as_carol.get(EXPERIMENTS_URL)) == []
    assert as_carol.get(project_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    assert as_carol.get(members_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    assert as_carol.get(project_experiments_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    for experiment_id in experiment_ids:
        assert as_carol.get(experiment_url(experiment_id)).status_code == status.HTTP_403_FORBIDDEN
