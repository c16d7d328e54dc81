"""Project sharing over HTTP: who may do what in a project and its experiments, by role."""

from datetime import UTC, datetime, timedelta

import pytest
from rest_framework import status

from accounts.models import User
from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import Project, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests import matrix
from registry.tests.matrix import (
    EXPERIMENT_CALLERS,
    SIGNED_IN_CALLERS,
    Action,
    World,
    build_world,
    give_caller_a_project,
)
from registry.tests.support import (
    EXPERIMENTS_URL,
    INVITATIONS_URL,
    PROJECTS_URL,
    ago,
    errors,
    experiment_restore_url,
    experiment_url,
    from_now,
    ids,
    invitation_accept_url,
    member_url,
    members_url,
    project_experiments_url,
    project_invitation_url,
    project_restore_url,
    project_url,
    rerun_url,
    snapshot,
    transfer_url,
)

pytestmark = pytest.mark.django_db

R = ProjectRole
S = Experiment.Status


def _membership(project: Project, user: User) -> ProjectMembership | None:
    return ProjectMembership.objects.filter(project=project, user=user).first()


# ---------------------------------------------------------------------------------------------------------------------
# The matrices: every caller against every action, the answers written out
# ---------------------------------------------------------------------------------------------------------------------


def _soft_delete_project(world: World) -> None:
    # As a tracking client deletes it: the project and its experiments marked deleted.
    Project.objects.filter(pk=world.project.pk).update(lifecycle_stage="deleted")
    Experiment.objects.filter(project=world.project).update(lifecycle_stage="deleted")


def _soft_delete_experiment(world: World) -> None:
    Experiment.objects.filter(pk=world.experiment.pk).update(lifecycle_stage="deleted")


PROJECT_ACTIONS = {
    "get": Action("get", lambda w: project_url(w.project.pk)),
    "put": Action(
        "put",
        lambda w: project_url(w.project.pk),
        lambda w: {"name": "replaced", "description": "replaced", "expiration_date": None},
    ),
    "patch": Action("patch", lambda w: project_url(w.project.pk), lambda w: {"description": "patched"}),
    "delete": Action("delete", lambda w: project_url(w.project.pk)),
    "transfer": Action("post", lambda w: transfer_url(w.project.pk), lambda w: {"user": w.newcomer.username}),
    "restore": Action("post", lambda w: project_restore_url(w.project.pk), prepare=_soft_delete_project),
    # GET /projects/{id}/experiments/
    "experiments": Action("get", lambda w: project_experiments_url(w.project.pk)),
}

# fmt: off
PROJECT_TABLE = {
    "anonymous":  {"get": 401, "experiments": 401, "put": 401, "patch": 401, "restore": 401,
                   "delete": 401, "transfer": 401},
    "stranger":   {"get": 403, "experiments": 403, "put": 403, "patch": 403, "restore": 403,
                   "delete": 403, "transfer": 403},
    "staff":      {"get": 403, "experiments": 403, "put": 403, "patch": 403, "restore": 403,
                   "delete": 403, "transfer": 403},
    "expired":    {"get": 403, "experiments": 403, "put": 403, "patch": 403, "restore": 403,
                   "delete": 403, "transfer": 403},
    "viewer":     {"get": 200, "experiments": 200, "put": 403, "patch": 403, "restore": 403,
                   "delete": 403, "transfer": 403},
    "editor":     {"get": 200, "experiments": 200, "put": 403, "patch": 403, "restore": 403,
                   "delete": 403, "transfer": 403},
    "maintainer": {"get": 200, "experiments": 200, "put": 200, "patch": 200, "restore": 200,
                   "delete": 403, "transfer": 403},
    "owner":      {"get": 200, "experiments": 200, "put": 200, "patch": 200, "restore": 200,
                   "delete": 204, "transfer": 202},
    "superuser":  {"get": 200, "experiments": 200, "put": 200, "patch": 200, "restore": 200,
                   "delete": 204, "transfer": 202},
}
# fmt: on


def _promote_member(world: World) -> None:
    ProjectMembership.objects.filter(pk=world.member.pk).update(role="maintainer")


def _add(role: str) -> Action:
    return Action("post", lambda w: members_url(w.project.pk), lambda w: {"user": w.newcomer.pk, "role": role})


MEMBER_ACTIONS = {
    "list": Action("get", lambda w: members_url(w.project.pk)),
    "get": Action("get", lambda w: member_url(w.project.pk, w.member.user_id)),
    # An invitation (202), granting nothing until accepted. Nobody offers more than they hold: each role offered is
    # checked against the caller's own.
    "add viewer": _add("viewer"),
    "add editor": _add("editor"),
    "add maint.": _add("maintainer"),
    # The member, a viewer, made an editor or a maintainer.
    "change": Action("patch", lambda w: member_url(w.project.pk, w.member.user_id), lambda w: {"role": "editor"}),
    "promote": Action("patch", lambda w: member_url(w.project.pk, w.member.user_id), lambda w: {"role": "maintainer"}),
    # The member made a maintainer first: no one changes or removes a member above their own role.
    "demote": Action(
        "patch",
        lambda w: member_url(w.project.pk, w.member.user_id),
        lambda w: {"role": "viewer"},
        prepare=_promote_member,
    ),
    "remove": Action("delete", lambda w: member_url(w.project.pk, w.member.user_id)),
    "remove maint.": Action("delete", lambda w: member_url(w.project.pk, w.member.user_id), prepare=_promote_member),
    # The caller's own membership.
    "leave": Action("delete", lambda w: member_url(w.project.pk, w.caller.pk)),
}

# Leaving looks for the caller's own membership and needs no role: whoever has none (the owner, a superuser, staff, a
# stranger) gets 404, as for any user who is not a member, while an expired member may still leave.
# fmt: off
MEMBER_TABLE = {
    "anonymous":  {"list": 401, "get": 401, "add viewer": 401, "add editor": 401, "add maint.": 401, "leave": 401,
                   "change": 401, "promote": 401, "demote": 401, "remove": 401, "remove maint.": 401},
    "stranger":   {"list": 403, "get": 403, "add viewer": 403, "add editor": 403, "add maint.": 403, "leave": 404,
                   "change": 403, "promote": 403, "demote": 403, "remove": 403, "remove maint.": 403},
    "staff":      {"list": 403, "get": 403, "add viewer": 403, "add editor": 403, "add maint.": 403, "leave": 404,
                   "change": 403, "promote": 403, "demote": 403, "remove": 403, "remove maint.": 403},
    "expired":    {"list": 403, "get": 403, "add viewer": 403, "add editor": 403, "add maint.": 403, "leave": 204,
                   "change": 403, "promote": 403, "demote": 403, "remove": 403, "remove maint.": 403},
    "viewer":     {"list": 200, "get": 200, "add viewer": 403, "add editor": 403, "add maint.": 403, "leave": 204,
                   "change": 403, "promote": 403, "demote": 403, "remove": 403, "remove maint.": 403},
    "editor":     {"list": 200, "get": 200, "add viewer": 403, "add editor": 403, "add maint.": 403, "leave": 204,
                   "change": 403, "promote": 403, "demote": 403, "remove": 403, "remove maint.": 403},
    "maintainer": {"list": 200, "get": 200, "add viewer": 202, "add editor": 202, "add maint.": 202, "leave": 204,
                   "change": 200, "promote": 200, "demote": 200, "remove": 204, "remove maint.": 204},
    "owner":      {"list": 200, "get": 200, "add viewer": 202, "add editor": 202, "add maint.": 202, "leave": 404,
                   "change": 200, "promote": 200, "demote": 200, "remove": 204, "remove maint.": 204},
    "superuser":  {"list": 200, "get": 200, "add viewer": 202, "add editor": 202, "add maint.": 202, "leave": 404,
                   "change": 200, "promote": 200, "demote": 200, "remove": 204, "remove maint.": 204},
}
# fmt: on

EXPERIMENT_ACTIONS = {
    "get": Action("get", lambda w: experiment_url(w.experiment.pk)),
    "put": Action(
        "put", lambda w: experiment_url(w.experiment.pk), lambda w: {"name": "replaced", "description": "replaced"}
    ),
    "patch": Action("patch", lambda w: experiment_url(w.experiment.pk), lambda w: {"description": "patched"}),
    "rerun": Action("post", lambda w: rerun_url(w.experiment.pk)),
    "delete": Action("delete", lambda w: experiment_url(w.experiment.pk)),
    "restore": Action("post", lambda w: experiment_restore_url(w.experiment.pk), prepare=_soft_delete_experiment),
    # A new experiment in the project, and the caller's own moved into it. A project the caller may not write is an
    # invalid choice of `project` (400), not a 403.
    "create in": Action("post", lambda w: EXPERIMENTS_URL, lambda w: {"name": "new", "project": w.project.pk}),
    "move own in": Action(
        "patch", lambda w: experiment_url(w.callers_experiment.pk), lambda w: {"project": w.project.pk}
    ),
    # The project's experiment moved into a project the caller owns.
    "move out": Action(
        "patch",
        lambda w: experiment_url(w.experiment.pk),
        lambda w: {"project": w.callers_project.pk},
        prepare=give_caller_a_project,
    ),
    # Someone else's experiment outside any project.
    "get private": Action("get", lambda w: experiment_url(w.elsewhere_experiments[1].pk)),
    "patch private": Action(
        "patch", lambda w: experiment_url(w.elsewhere_experiments[1].pk), lambda w: {"description": "patched"}
    ),
}

# The experiment's author acts as its owner whatever their role; a superuser acts as the owner of every experiment,
# even one outside any project, and so may move someone else's experiment, which the project's owner may not.
# fmt: off
EXPERIMENT_TABLE = {
    "anonymous":  {"get": 401, "put": 401, "patch": 401, "rerun": 401, "delete": 401, "restore": 401,
                   "create in": 401, "move own in": 401, "move out": 401, "get private": 401, "patch private": 401},
    "stranger":   {"get": 403, "put": 403, "patch": 403, "rerun": 403, "delete": 403, "restore": 403,
                   "create in": 400, "move own in": 400, "move out": 403, "get private": 403, "patch private": 403},
    "staff":      {"get": 403, "put": 403, "patch": 403, "rerun": 403, "delete": 403, "restore": 403,
                   "create in": 400, "move own in": 400, "move out": 403, "get private": 403, "patch private": 403},
    "expired":    {"get": 403, "put": 403, "patch": 403, "rerun": 403, "delete": 403, "restore": 403,
                   "create in": 400, "move own in": 400, "move out": 403, "get private": 403, "patch private": 403},
    "viewer":     {"get": 200, "put": 403, "patch": 403, "rerun": 403, "delete": 403, "restore": 403,
                   "create in": 400, "move own in": 400, "move out": 403, "get private": 403, "patch private": 403},
    "editor":     {"get": 200, "put": 200, "patch": 200, "rerun": 200, "delete": 403, "restore": 403,
                   "create in": 201, "move own in": 200, "move out": 400, "get private": 403, "patch private": 403},
    "maintainer": {"get": 200, "put": 200, "patch": 200, "rerun": 200, "delete": 204, "restore": 200,
                   "create in": 201, "move own in": 200, "move out": 400, "get private": 403, "patch private": 403},
    "owner":      {"get": 200, "put": 200, "patch": 200, "rerun": 200, "delete": 204, "restore": 200,
                   "create in": 201, "move own in": 200, "move out": 400, "get private": 403, "patch private": 403},
    "superuser":  {"get": 200, "put": 200, "patch": 200, "rerun": 200, "delete": 204, "restore": 200,
                   "create in": 201, "move own in": 200, "move out": 200, "get private": 200, "patch private": 200},
    "author":     {"get": 200, "put": 200, "patch": 200, "rerun": 200, "delete": 204, "restore": 200,
                   "create in": 400, "move own in": 400, "move out": 200, "get private": 403, "patch private": 403},
}
# fmt: on


@pytest.mark.parametrize(("kind", "name", "expected"), matrix.cases(PROJECT_TABLE, PROJECT_ACTIONS))
def test_project_actions_answer_by_role_and_refusals_change_nothing(kind, name, expected):
    matrix.check(kind, PROJECT_ACTIONS[name], expected)


@pytest.mark.parametrize(("kind", "name", "expected"), matrix.cases(MEMBER_TABLE, MEMBER_ACTIONS))
def test_member_actions_answer_by_role_and_refusals_change_nothing(kind, name, expected):
    matrix.check(kind, MEMBER_ACTIONS[name], expected)


@pytest.mark.parametrize(
    ("kind", "name", "expected"), matrix.cases(EXPERIMENT_TABLE, EXPERIMENT_ACTIONS, EXPERIMENT_CALLERS)
)
def test_experiment_actions_answer_by_role_and_refusals_change_nothing(kind, name, expected):
    matrix.check(kind, EXPERIMENT_ACTIONS[name], expected)


# ---------------------------------------------------------------------------------------------------------------------
# Lists for each caller: the rows each one sees, by name (see World), with the role shown for projects
# ---------------------------------------------------------------------------------------------------------------------

LIST_ACTIONS = {
    "projects": Action("get", lambda w: PROJECTS_URL),
    "experiments": Action("get", lambda w: EXPERIMENTS_URL),
    "mine": Action("get", lambda w: EXPERIMENTS_URL, params={"mine": "true"}),
    "not mine": Action("get", lambda w: EXPERIMENTS_URL, params={"mine": "false"}),
    "project experiments": Action("get", lambda w: project_experiments_url(w.project.pk)),
}

VISIBLE = {
    "anonymous": {
        "projects": 401,
        "experiments": 401,
        "mine": 401,
        "not mine": 401,
        "project experiments": 401,
    },
    "stranger": {
        "projects": {},
        "experiments": {"caller's own"},
        "mine": {"caller's own"},
        "not mine": set(),
        "project experiments": 403,
    },
    "staff": {
        "projects": {},
        "experiments": {"caller's own"},
        "mine": {"caller's own"},
        "not mine": set(),
        "project experiments": 403,
    },
    "expired": {
        "projects": {},
        "experiments": {"caller's own"},
        "mine": {"caller's own"},
        "not mine": set(),
        "project experiments": 403,
    },
    "viewer": {
        "projects": {"warehouse": "viewer"},
        "experiments": {"baseline", "caller's own"},
        "mine": {"caller's own"},
        "not mine": {"baseline"},
        "project experiments": {"baseline"},
    },
    "editor": {
        "projects": {"warehouse": "editor"},
        "experiments": {"baseline", "caller's own"},
        "mine": {"caller's own"},
        "not mine": {"baseline"},
        "project experiments": {"baseline"},
    },
    "maintainer": {
        "projects": {"warehouse": "maintainer"},
        "experiments": {"baseline", "caller's own"},
        "mine": {"caller's own"},
        "not mine": {"baseline"},
        "project experiments": {"baseline"},
    },
    "owner": {
        "projects": {"warehouse": "owner"},
        "experiments": {"alice's private", "baseline"},
        "mine": {"alice's private"},
        "not mine": {"baseline"},
        "project experiments": {"baseline"},
    },
    "superuser": {
        "projects": {"elsewhere": "owner", "warehouse": "owner"},
        "experiments": {"alice's private", "baseline", "caller's own", "in elsewhere", "stranger's private"},
        "mine": {"caller's own"},
        "not mine": {"alice's private", "baseline", "in elsewhere", "stranger's private"},
        "project experiments": {"baseline"},
    },
    "author": {
        "projects": {"warehouse": "viewer"},
        "experiments": {"baseline", "caller's own"},
        "mine": {"baseline", "caller's own"},
        "not mine": set(),
        "project experiments": {"baseline"},
    },
}


@pytest.mark.parametrize(("kind", "name", "expected"), matrix.cases(VISIBLE, LIST_ACTIONS, EXPERIMENT_CALLERS))
def test_lists_hold_exactly_the_rows_each_caller_may_see(kind, name, expected):
    matrix.check_rows(kind, LIST_ACTIONS[name], expected)


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
    world = build_world("owner")
    before = snapshot()
    assert call(client_for(world.caller), world).status_code == status.HTTP_404_NOT_FOUND
    assert snapshot() == before


def test_the_owner_is_not_a_member_so_a_maintainer_cannot_change_or_remove_them(client_for):
    world = build_world(R.MAINTAINER)
    client = client_for(world.caller)
    before = snapshot()
    owner_url = member_url(world.project.pk, world.project.owner_id)
    assert client.get(owner_url).status_code == status.HTTP_404_NOT_FOUND
    assert client.patch(owner_url, {"role": R.VIEWER}).status_code == status.HTTP_404_NOT_FOUND
    assert client.delete(owner_url).status_code == status.HTTP_404_NOT_FOUND
    assert snapshot() == before


@pytest.mark.parametrize("kind", SIGNED_IN_CALLERS)
def test_put_on_a_member_is_405_and_so_is_a_write_to_the_members_list(client_for, kind):
    world = build_world(kind)
    client = client_for(world.caller)
    before = snapshot()
    assert client.put(member_url(world.project.pk, world.member.user_id), {"role": R.EDITOR}).status_code == 405
    assert client.patch(members_url(world.project.pk), {"role": R.EDITOR}).status_code == 405
    assert client.delete(members_url(world.project.pk)).status_code == 405
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Roles shown, and the list filters
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", SIGNED_IN_CALLERS)
def test_project_detail_shows_the_callers_role(client_for, kind):
    world = build_world(kind)
    response = client_for(world.caller).get(project_url(world.project.pk))
    if world.role:
        assert response.json()["role"] == world.role
    else:
        assert response.status_code == status.HTTP_403_FORBIDDEN


@pytest.mark.parametrize("value", ["yes", "1", "all"])
def test_junk_mine_filter_is_400(user_client, value):
    assert set(errors(user_client.get(EXPERIMENTS_URL, {"mine": value}))) == {"mine"}


@pytest.fixture
def by_role(user) -> dict[str, Project]:
    """A project in which `user` has each role, and one where their membership has expired."""
    projects = {"owner": ProjectFactory(owner=user, name="owned")}
    for role in (R.MAINTAINER, R.EDITOR, R.VIEWER):
        projects[role] = ProjectMembershipFactory(user=user, role=role, project__name=role).project
    projects["expired"] = ProjectMembershipFactory(
        user=user, role=R.MAINTAINER, expires_at=ago(seconds=1), project__name="expired"
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
    assert set(errors(user_client.get(PROJECTS_URL, {"role": value}))) == {"role"}


def test_role_filter_combines_with_the_other_filters(user_client, by_role):
    assert _roles(user_client.get(PROJECTS_URL, {"role": "owner,editor", "search": "EDIT"})) == {"editor": "editor"}


# ---------------------------------------------------------------------------------------------------------------------
# The experiment's own owner, and experiments outside any project
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["stranger", "viewer", "editor", "expired"])
def test_the_experiments_owner_has_full_rights_on_it_whatever_their_project_role(client_for, kind):
    # An experiment the caller created in the project, e.g. as an editor before being made a viewer, or removed.
    world = build_world(kind)
    own = ExperimentFactory(
        owner=world.caller, project=world.project, status=S.FAILED, started_at=ago(hours=2), finished_at=ago(hours=1)
    )
    client = client_for(world.caller)
    assert client.get(experiment_url(own.pk)).status_code == status.HTTP_200_OK
    assert client.patch(experiment_url(own.pk), {"description": "mine"}).status_code == status.HTTP_200_OK
    assert client.post(rerun_url(own.pk)).status_code == status.HTTP_200_OK
    assert client.delete(experiment_url(own.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert not Experiment.objects.filter(pk=own.pk).exists()


def test_an_editor_deletes_their_own_experiment_in_the_project_but_not_anothers(client_for):
    world = build_world(R.EDITOR)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    client = client_for(world.caller)
    assert client.delete(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.delete(experiment_url(own.pk)).status_code == status.HTTP_204_NO_CONTENT
    assert list(Experiment.objects.filter(project=world.project)) == [world.experiment]


@pytest.mark.parametrize("kind", ["stranger", "viewer", "editor", "maintainer", "owner", "expired", "staff"])
def test_an_experiment_outside_any_project_stays_private_to_its_owner(client_for, kind):
    world = build_world(kind)
    private = world.elsewhere_experiments[1]
    client = client_for(world.caller)
    before = snapshot()
    assert client.get(experiment_url(private.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.patch(experiment_url(private.pk), {"name": "taken"}).status_code == status.HTTP_403_FORBIDDEN
    assert client.delete(experiment_url(private.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer"])
def test_members_do_not_see_the_owners_experiments_outside_the_project(client_for, kind):
    world = build_world(kind)
    client = client_for(world.caller)
    assert world.owners_private.pk not in ids(client.get(EXPERIMENTS_URL))
    assert client.get(experiment_url(world.owners_private.pk)).status_code == status.HTTP_403_FORBIDDEN


@pytest.mark.parametrize(("kind", "expected"), [("viewer", 403), ("editor", 400), ("maintainer", 400)])
def test_only_the_experiments_owner_moves_it_out_of_the_project(client_for, kind, expected):
    # Moving would take it where the project's members cannot see it, or show it to people its owner never chose.
    world = build_world(kind)
    response = client_for(world.caller).patch(experiment_url(world.experiment.pk), {"project": None})
    assert response.status_code == expected
    if expected == 400:
        assert set(errors(response)) == {"project"}
    assert Experiment.objects.get(pk=world.experiment.pk).project == world.project


def test_the_experiments_owner_moves_it_out_of_the_project(client_for):
    world = build_world(R.VIEWER)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    response = client_for(world.caller).patch(experiment_url(own.pk), {"project": None})
    assert response.status_code == status.HTTP_200_OK
    assert Experiment.objects.get(pk=own.pk).project is None


def test_an_editor_cannot_move_an_experiment_into_a_project_where_they_only_view(client_for):
    world = build_world(R.EDITOR)
    viewed = ProjectMembershipFactory(user=world.caller, role=R.VIEWER).project
    response = client_for(world.caller).patch(experiment_url(world.experiment.pk), {"project": viewed.pk})
    assert set(errors(response)) == {"project"}
    assert Experiment.objects.get(pk=world.experiment.pk).project == world.project


def test_a_viewer_may_send_back_the_project_an_experiment_already_is_in(client_for):
    world = build_world(R.VIEWER)
    own = ExperimentFactory(owner=world.caller, project=world.project)
    response = client_for(world.caller).patch(experiment_url(own.pk), {"project": world.project.pk, "name": "kept"})
    assert response.status_code == status.HTTP_200_OK
    assert response.json()["project"] == world.project.pk


# ---------------------------------------------------------------------------------------------------------------------
# Members: reading, adding, and the `user` field
# ---------------------------------------------------------------------------------------------------------------------

MEMBER_FIELDS = {"user", "role", "added_by", "created_at", "updated_at", "expires_at"}
INVITATION_FIELDS = {
    "id",
    "kind",
    "project",
    "invitee",
    "invited_by",
    "role",
    "membership_expires_at",
    "status",
    "created_at",
    "expires_at",
}


def test_members_list_shows_each_member_with_their_role_and_who_added_them(client_for):
    world = build_world(R.VIEWER)
    later = from_now(days=30)
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


def test_members_list_shows_expired_memberships_so_that_maintainers_can_invite_them_again(client_for):
    world = build_world(R.MAINTAINER)
    expired = ProjectMembershipFactory(project=world.project, role=R.EDITOR, expires_at=ago(days=1))
    rows = {row["user"]["id"]: row for row in client_for(world.caller).get(members_url(world.project.pk)).json()}
    assert rows[expired.user_id]["expires_at"] is not None
    renewed = from_now(days=7)
    body = {"user": expired.user_id, "role": R.EDITOR, "expires_at": renewed}
    invitation = client_for(world.caller).post(members_url(world.project.pk), body)
    assert invitation.status_code == status.HTTP_202_ACCEPTED
    accepted = client_for(expired.user).post(invitation_accept_url(invitation.json()["id"]))
    assert accepted.status_code == status.HTTP_200_OK
    assert ProjectMembership.objects.get(pk=expired.pk).expires_at == renewed


@pytest.mark.parametrize("kind", ["maintainer", "owner", "superuser"])
def test_add_member_answers_202_with_the_invitation_and_the_member_joins_on_accepting(client_for, kind):
    world = build_world(kind)
    expires = from_now(days=30)
    response = client_for(world.caller).post(
        members_url(world.project.pk), {"user": world.newcomer.username, "role": R.EDITOR, "expires_at": expires}
    )
    assert response.status_code == status.HTTP_202_ACCEPTED, response.content
    data = response.json()
    assert response["Location"] == f"http://testserver{project_invitation_url(world.project.pk, data['id'])}"
    assert set(data) == INVITATION_FIELDS
    assert (data["kind"], data["status"], data["role"]) == ("membership", "pending", R.EDITOR)
    assert (data["invitee"]["id"], data["invited_by"]["id"]) == (world.newcomer.pk, world.caller.pk)
    assert data["project"] == {"id": world.project.pk, "name": "warehouse"}
    assert _membership(world.project, world.newcomer) is None

    accepted = client_for(world.newcomer).post(invitation_accept_url(data["id"]))
    assert accepted.status_code == status.HTTP_200_OK, accepted.content
    assert (accepted.json()["id"], accepted.json()["role"]) == (world.project.pk, R.EDITOR)
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
    world = build_world(R.OWNER)
    body = {"user": _newcomer_reference(world, how), "role": R.VIEWER}
    response = client_for(world.caller).post(members_url(world.project.pk), body)
    assert response.status_code == status.HTTP_202_ACCEPTED, response.content
    assert response.json()["invitee"]["id"] == world.newcomer.pk


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
    world = build_world(R.OWNER)
    before = snapshot()
    assert field in errors(client_for(world.caller).post(members_url(world.project.pk), body, format="json"))
    assert snapshot() == before


def test_an_inactive_user_cannot_be_added(client_for):
    world = build_world(R.OWNER)
    User.objects.filter(pk=world.newcomer.pk).update(is_active=False)
    body = {"user": world.newcomer.username, "role": R.VIEWER}
    assert set(errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}


@pytest.mark.parametrize("when", [{"seconds": 1}, {"days": 1}], ids=["a second ago", "yesterday"])
def test_add_member_with_an_expiry_in_the_past_is_400(client_for, when):
    world = build_world(R.MAINTAINER)
    body = {"user": world.newcomer.pk, "role": R.VIEWER, "expires_at": ago(**when)}
    before = snapshot()
    assert set(errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"expires_at"}
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["maintainer", "owner"])
def test_adding_the_owner_is_400(client_for, kind):
    world = build_world(kind)
    before = snapshot()
    body = {"user": world.project.owner.email, "role": R.VIEWER}
    assert set(errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}
    assert snapshot() == before


def test_adding_someone_who_is_already_a_member_is_400(client_for):
    world = build_world(R.OWNER)
    before = snapshot()
    body = {"user": world.member.user.username, "role": R.EDITOR}
    assert set(errors(client_for(world.caller).post(members_url(world.project.pk), body))) == {"user"}
    assert snapshot() == before


def test_the_same_user_may_be_a_member_of_several_projects(client_for):
    world = build_world(R.OWNER)
    other = ProjectFactory(owner=world.caller)
    body = {"user": world.member.user_id, "role": R.EDITOR}
    invited = client_for(world.caller).post(members_url(other.pk), body)
    assert invited.status_code == status.HTTP_202_ACCEPTED
    accepted = client_for(world.member.user).post(invitation_accept_url(invited.json()["id"]))
    assert accepted.status_code == status.HTTP_200_OK
    assert ProjectMembership.objects.filter(user=world.member.user).count() == 2


# ---------------------------------------------------------------------------------------------------------------------
# Role escalation
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["viewer", "editor"])
@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_viewers_and_editors_cannot_add_members_even_below_themselves(client_for, kind, role):
    world = build_world(kind)
    before = snapshot()
    response = client_for(world.caller).post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": role})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_a_maintainer_may_add_members_up_to_maintainer(client_for, role):
    world = build_world(R.MAINTAINER)
    response = client_for(world.caller).post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": role})
    assert response.status_code == status.HTTP_202_ACCEPTED
    assert ProjectInvitation.objects.get(project=world.project, invitee=world.newcomer).role == role


@pytest.mark.parametrize("kind", ["maintainer", "owner"])
def test_nobody_grants_owner_through_membership(client_for, kind):
    world = build_world(kind)
    client = client_for(world.caller)
    before = snapshot()
    added = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.OWNER})
    assert set(errors(added)) == {"role"}
    changed = client.patch(member_url(world.project.pk, world.member.user_id), {"role": R.OWNER})
    assert set(errors(changed)) == {"role"}
    assert snapshot() == before


@pytest.mark.parametrize("target_role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
@pytest.mark.parametrize("new_role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_a_maintainer_may_change_any_member_to_any_member_role(client_for, target_role, new_role):
    world = build_world(R.MAINTAINER)
    target = ProjectMembershipFactory(project=world.project, role=target_role)
    response = client_for(world.caller).patch(member_url(world.project.pk, target.user_id), {"role": new_role})
    assert response.status_code == status.HTTP_200_OK, response.content
    assert response.json()["role"] == new_role
    assert ProjectMembership.objects.get(pk=target.pk).role == new_role


def test_a_maintainer_may_remove_another_maintainer(client_for):
    world = build_world(R.MAINTAINER)
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
    world = build_world(kind)
    ProjectMembership.objects.filter(project=world.project, user=world.caller).update(expires_at=from_now(days=3))
    before = snapshot()
    response = client_for(world.caller).patch(member_url(world.project.pk, world.caller.pk), body)
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


def test_an_editor_cannot_grant_editor(client_for):
    world = build_world(R.EDITOR)
    client = client_for(world.caller)
    before = snapshot()
    added = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.EDITOR})
    assert added.status_code == status.HTTP_403_FORBIDDEN
    changed = client.patch(member_url(world.project.pk, world.member.user_id), {"role": R.EDITOR})
    assert changed.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor"])
def test_viewers_and_editors_cannot_remove_other_members(client_for, kind):
    world = build_world(kind)
    before = snapshot()
    response = client_for(world.caller).delete(member_url(world.project.pk, world.member.user_id))
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


def test_the_user_in_a_patch_body_is_ignored(client_for):
    world = build_world(R.MAINTAINER)
    body = {"user": world.newcomer.pk, "role": R.EDITOR, "added_by": world.newcomer.pk}
    response = client_for(world.caller).patch(member_url(world.project.pk, world.member.user_id), body)
    assert response.status_code == status.HTTP_200_OK
    membership = ProjectMembership.objects.get(pk=world.member.pk)
    assert (membership.user, membership.role, membership.added_by) == (world.member.user, R.EDITOR, world.project.owner)
    assert _membership(world.project, world.newcomer) is None


def test_change_member_with_a_past_expiry_is_400(client_for):
    world = build_world(R.OWNER)
    before = snapshot()
    response = client_for(world.caller).patch(
        member_url(world.project.pk, world.member.user_id), {"expires_at": ago(minutes=1)}
    )
    assert set(errors(response)) == {"expires_at"}
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------------------------------
# Leaving
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer"])
def test_each_member_may_leave_and_then_loses_access(client_for, kind):
    world = build_world(kind)
    client = client_for(world.caller)
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK
    response = client.delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert _membership(world.project, world.caller) is None
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(members_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert ids(client.get(PROJECTS_URL)) == []
    assert ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]


def test_the_owner_cannot_leave_their_own_project(client_for):
    world = build_world(R.OWNER)
    response = client_for(world.caller).delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_404_NOT_FOUND
    assert Project.objects.get(pk=world.project.pk).owner == world.caller


# ---------------------------------------------------------------------------------------------------------------------
# Expiry
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_an_expired_membership_grants_nothing(client_for, role):
    world = build_world("stranger")
    ProjectMembershipFactory(project=world.project, user=world.caller, role=role, expires_at=ago(seconds=1))
    client = client_for(world.caller)
    assert ids(client.get(PROJECTS_URL)) == []
    assert ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]
    for url in (
        project_url(world.project.pk),
        project_experiments_url(world.project.pk),
        members_url(world.project.pk),
        experiment_url(world.experiment.pk),
    ):
        assert client.get(url).status_code == status.HTTP_403_FORBIDDEN, url
    create = client.post(EXPERIMENTS_URL, {"name": "new", "project": world.project.pk})
    assert set(errors(create)) == {"project"}


def test_a_membership_with_a_future_expiry_grants_its_role(client_for):
    world = build_world("stranger")
    ProjectMembershipFactory(project=world.project, user=world.caller, role=R.EDITOR, expires_at=from_now(minutes=1))
    client = client_for(world.caller)
    assert [row["role"] for row in client.get(PROJECTS_URL).json()] == [R.EDITOR]
    assert client.patch(experiment_url(world.experiment.pk), {"name": "edited"}).status_code == status.HTTP_200_OK


def test_access_vanishes_when_the_membership_expires(client_for, time_machine):
    start = datetime(2025, 3, 1, 12, tzinfo=UTC)
    time_machine.move_to(start, tick=False)
    world = build_world("stranger")
    ProjectMembershipFactory(
        project=world.project, user=world.caller, role=R.MAINTAINER, expires_at=start + timedelta(minutes=10)
    )
    # A token lives 15 minutes, so the one client outlives the membership.
    client = client_for(world.caller)
    assert ids(client.get(PROJECTS_URL)) == [world.project.pk]
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_200_OK

    time_machine.move_to(start + timedelta(minutes=9, seconds=59), tick=False)
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK

    time_machine.move_to(start + timedelta(minutes=10), tick=False)
    assert ids(client.get(PROJECTS_URL)) == []
    assert ids(client.get(EXPERIMENTS_URL)) == [world.callers_experiment.pk]
    assert client.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert client.get(experiment_url(world.experiment.pk)).status_code == status.HTTP_403_FORBIDDEN
    before = snapshot()
    response = client.post(members_url(world.project.pk), {"user": world.newcomer.pk, "role": R.VIEWER})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


def test_renewing_an_expired_membership_is_an_invitation_that_restores_access_once_accepted(client_for):
    world = build_world(R.OWNER)
    ProjectMembership.objects.filter(pk=world.member.pk).update(expires_at=ago(days=1))
    member = client_for(world.member.user)
    owner = client_for(world.caller)
    assert member.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    before = snapshot()
    patched = owner.patch(member_url(world.project.pk, world.member.user_id), {"expires_at": None}, format="json")
    assert errors(patched) == {"expires_at": ["This membership has expired; invite the user again to renew it."]}
    assert snapshot() == before
    invited = owner.post(members_url(world.project.pk), {"user": world.member.user_id, "role": R.VIEWER})
    assert invited.status_code == status.HTTP_202_ACCEPTED
    assert member.get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN
    assert member.post(invitation_accept_url(invited.json()["id"])).status_code == status.HTTP_200_OK
    assert member.get(project_url(world.project.pk)).status_code == status.HTTP_200_OK


# ---------------------------------------------------------------------------------------------------------------------
# Transfer
# ---------------------------------------------------------------------------------------------------------------------


def _transfer(client_for, world: World, new_owner: User, reference=None):
    """The caller offers the project to `new_owner`, who accepts: the answers of both."""
    offered = client_for(world.caller).post(transfer_url(world.project.pk), {"user": reference or new_owner.pk})
    assert offered.status_code == status.HTTP_202_ACCEPTED, offered.content
    assert (offered.json()["kind"], offered.json()["invitee"]["id"]) == ("transfer", new_owner.pk)
    assert Project.objects.get(pk=world.project.pk).owner_id != new_owner.pk
    return offered, client_for(new_owner).post(invitation_accept_url(offered.json()["id"]))


@pytest.mark.parametrize("new_owner_role", [None, R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_transfer_makes_the_new_owner_owner_and_keeps_the_old_one_as_maintainer(client_for, new_owner_role):
    world = build_world(R.OWNER)
    alice = world.caller
    if new_owner_role:
        ProjectMembershipFactory(project=world.project, user=world.newcomer, role=new_owner_role)
    _, accepted = _transfer(client_for, world, world.newcomer, reference=world.newcomer.email)
    assert accepted.status_code == status.HTTP_200_OK, accepted.content
    data = accepted.json()
    assert (data["id"], data["owner"], data["role"]) == (world.project.pk, world.newcomer.pk, R.OWNER)

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
    world = build_world(R.OWNER)
    _transfer(client_for, world, world.newcomer)
    response = client_for(world.newcomer).delete(member_url(world.project.pk, world.caller.pk))
    assert response.status_code == status.HTTP_204_NO_CONTENT
    assert client_for(world.caller).get(project_url(world.project.pk)).status_code == status.HTTP_403_FORBIDDEN


def test_a_superuser_transfers_and_the_old_owner_stays_as_maintainer(client_for):
    world = build_world("superuser")
    _, accepted = _transfer(client_for, world, world.newcomer)
    assert accepted.status_code == status.HTTP_200_OK
    assert (accepted.json()["owner"], accepted.json()["role"]) == (world.newcomer.pk, R.OWNER)
    kept = _membership(world.project, world.project.owner)
    assert (kept.role, kept.added_by) == (R.MAINTAINER, world.caller)
    assert _membership(world.project, world.caller) is None


def test_transfer_to_someone_who_has_a_project_of_that_name_is_400_to_them_on_accepting_and_changes_nothing(
    client_for,
):
    world = build_world(R.OWNER)
    ProjectMembershipFactory(project=world.project, user=world.newcomer, role=R.EDITOR)
    ProjectFactory(owner=world.newcomer, name=world.project.name.upper())
    offered = client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.newcomer.pk})
    assert offered.status_code == status.HTTP_202_ACCEPTED
    before = snapshot()
    accepted = client_for(world.newcomer).post(invitation_accept_url(offered.json()["id"]))
    assert errors(accepted) == {"non_field_errors": ["You already own a project named warehouse; rename it first."]}
    assert snapshot() == before


@pytest.mark.parametrize(
    "user",
    [lambda w: "nobody", lambda w: MISSING, lambda w: "", lambda w: None, lambda w: w.project.owner.username],
    ids=["unknown username", "unknown id", "blank", "null", "the current owner"],
)
def test_transfer_to_an_unknown_user_or_the_current_owner_is_400(client_for, user):
    world = build_world(R.OWNER)
    before = snapshot()
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": user(world)}, format="json")
    assert set(errors(response)) == {"user"}
    assert snapshot() == before


@pytest.mark.parametrize("kind", ["viewer", "editor", "maintainer", "expired", "stranger", "staff"])
def test_only_the_owner_may_transfer(client_for, kind):
    world = build_world(kind)
    before = snapshot()
    # Even to themself.
    response = client_for(world.caller).post(transfer_url(world.project.pk), {"user": world.caller.pk})
    assert response.status_code == status.HTTP_403_FORBIDDEN
    assert snapshot() == before


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
# From start to end: alice shares a project with bob, and carol sees none of it
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
    invited = as_alice.post(members_url(project_id), {"user": "bob", "role": "viewer"})
    assert invited.status_code == status.HTTP_202_ACCEPTED
    # Until he accepts, bob sees nothing of it.
    assert ids(as_bob.get(EXPERIMENTS_URL)) == []
    assert as_bob.get(project_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    assert [row["id"] for row in as_bob.get(INVITATIONS_URL).json()] == [invited.json()["id"]]
    assert as_bob.post(invitation_accept_url(invited.json()["id"])).status_code == status.HTTP_200_OK

    # Bob, a viewer, reads both experiments but may not change them.
    assert ids(as_bob.get(EXPERIMENTS_URL)) == experiment_ids
    for experiment_id in experiment_ids:
        assert as_bob.get(experiment_url(experiment_id)).status_code == status.HTTP_200_OK
    before = snapshot()
    assert as_bob.patch(experiment_url(experiment_ids[0]), {"name": "bob's"}).status_code == 403
    assert snapshot() == before

    # Alice makes bob an editor: now he changes an experiment and adds one.
    promoted = as_alice.patch(member_url(project_id, bob.pk), {"role": "editor"})
    assert (promoted.status_code, promoted.json()["role"]) == (status.HTTP_200_OK, "editor")
    patched = as_bob.patch(experiment_url(experiment_ids[0]), {"name": "bob's"})
    assert (patched.status_code, patched.json()["name"]) == (status.HTTP_200_OK, "bob's")
    bobs = as_bob.post(EXPERIMENTS_URL, {"name": "bob's own", "project": project_id})
    assert bobs.status_code == status.HTTP_201_CREATED
    assert bobs.json()["owner"] == bob.pk
    experiment_ids.append(bobs.json()["id"])
    assert ids(as_alice.get(project_experiments_url(project_id))) == experiment_ids
    assert [row["role"] for row in as_bob.get(PROJECTS_URL).json()] == ["editor"]

    # Carol, with no membership, sees none of it.
    assert ids(as_carol.get(PROJECTS_URL)) == []
    assert ids(as_carol.get(EXPERIMENTS_URL)) == []
    assert as_carol.get(project_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    assert as_carol.get(members_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    assert as_carol.get(project_experiments_url(project_id)).status_code == status.HTTP_403_FORBIDDEN
    for experiment_id in experiment_ids:
        assert as_carol.get(experiment_url(experiment_id)).status_code == status.HTTP_403_FORBIDDEN
