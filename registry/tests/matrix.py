"""Permission matrices: every kind of caller against every action of a resource, with the answers written as data.

A table maps each caller kind to each action's expected status code, literally:

    PROJECT_TABLE = {
        "viewer": {"get": 200, "patch": 403, ...},
        ...
    }

`cases(table, actions)` turns it into one pytest case per cell, and `check(kind, action, expected)` runs one cell: it
builds a world (a shared project and the people around it), makes the request as that kind of caller and asserts the
status; then, from a snapshot of the database, that an allowed write changed something and that a read or a refusal
changed nothing. `check_rows` does the same for a list, whose cells name the rows the caller sees. The expected answers
are never derived from the code under test (its role order or its role checks), so that a change in who may do what
fails here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects.models import Project, ProjectMembership
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory
from registry.tests.support import ago, bearer_client, snapshot

# ---------------------------------------------------------------------------------------------------------------------
# The callers
# ---------------------------------------------------------------------------------------------------------------------

# Every kind of caller of a project's routes, weakest first. `stranger` has no access; `staff` has staff rights and no
# membership; `expired` held the strongest member role until a minute ago; `anonymous` sends no credentials.
CALLERS = ("anonymous", "stranger", "staff", "expired", "viewer", "editor", "maintainer", "owner", "superuser")
# For an experiment's routes, also its own author: a viewer of the project who created the experiment.
EXPERIMENT_CALLERS = (*CALLERS, "author")
# The callers who hold an account, for tests that act as `world.caller`.
SIGNED_IN_CALLERS = CALLERS[1:]

# The role each kind acts with in the project (what `role` shows in a project's representation).
EFFECTIVE_ROLE: dict[str, str | None] = {
    "anonymous": None,
    "stranger": None,
    "staff": None,
    "expired": None,
    "viewer": "viewer",
    "editor": "editor",
    "maintainer": "maintainer",
    "owner": "owner",
    "superuser": "owner",
    "author": "viewer",
}


@dataclass
class World:
    """A shared project and the people around it, seen by one caller.

    Names are fixed so that tables of visible rows can name them: projects `warehouse` (the shared one, owned by
    alice) and `elsewhere` (a stranger's); experiments `baseline` (in warehouse), `alice's private`
    (alice's, outside any project), `in elsewhere`, `stranger's private` and `caller's own` (the caller's, outside any
    project; for alice herself, `alice's private`).
    """

    kind: str
    caller: User
    project: Project
    # In the project and completed, so that it may be re-run. Its owner is a former member, so that every caller acts
    # on it by their role alone, except `author`, who owns it.
    experiment: Experiment
    # A viewer other than the caller, whom maintainers may change and remove.
    member: ProjectMembership
    # Someone with no access, to add as a member or to transfer the project to.
    newcomer: User
    # The caller's own experiment, outside any project.
    callers_experiment: Experiment
    # Someone else's project and experiments, which only a superuser sees.
    elsewhere: Project
    elsewhere_experiments: list[Experiment]
    # The owner's experiment outside any project: private to the owner.
    owners_private: Experiment
    # A project the caller owns, made by an action's `prepare` where one is needed (see `give_caller_a_project`).
    callers_project: Project | None = None

    @property
    def role(self) -> str | None:
        """The role the caller acts with in the project."""
        return EFFECTIVE_ROLE[self.kind]

    def client(self) -> APIClient:
        """A client acting as the caller; an anonymous one sends no credentials."""
        return APIClient() if self.kind == "anonymous" else bearer_client(self.caller)


def _make_caller(kind: str, project: Project) -> User:
    if kind in {"viewer", "editor", "maintainer"}:
        return ProjectMembershipFactory(project=project, role=kind).user
    if kind == "author":
        return ProjectMembershipFactory(project=project, role="viewer").user
    if kind == "owner":
        return project.owner
    if kind == "expired":
        # The strongest member role, to show that expiry takes all of it away.
        return ProjectMembershipFactory(project=project, role="maintainer", expires_at=ago(minutes=1)).user
    if kind == "superuser":
        return UserFactory(is_staff=True, is_superuser=True)
    if kind == "staff":
        return UserFactory(is_staff=True)
    assert kind in {"stranger", "anonymous"}, kind
    return UserFactory()


def build_world(kind: str) -> World:
    """The world as `kind` (one of EXPERIMENT_CALLERS) sees it."""
    owner = UserFactory(username="alice")
    project = ProjectFactory(owner=owner, name="warehouse", description="shared")
    member = ProjectMembershipFactory(project=project, role="viewer")
    caller = _make_caller(kind, project)
    experiment = ExperimentFactory(
        owner=caller if kind == "author" else UserFactory(username="former-member"),
        project=project,
        name="baseline",
        status=Experiment.Status.COMPLETED,
        started_at=ago(hours=2),
        finished_at=ago(hours=1),
    )
    owners_private = ExperimentFactory(owner=owner, name="alice's private")
    stranger = UserFactory()
    elsewhere = ProjectFactory(owner=stranger, name="elsewhere")
    elsewhere_experiments = [
        ExperimentFactory(owner=stranger, project=elsewhere, name="in elsewhere"),
        ExperimentFactory(owner=stranger, name="stranger's private"),
    ]
    callers_experiment = owners_private if caller == owner else ExperimentFactory(owner=caller, name="caller's own")
    return World(
        kind=kind,
        caller=caller,
        project=project,
        experiment=experiment,
        member=member,
        newcomer=UserFactory(username="newcomer"),
        callers_experiment=callers_experiment,
        elsewhere=elsewhere,
        elsewhere_experiments=elsewhere_experiments,
        owners_private=owners_private,
    )


def give_caller_a_project(world: World) -> None:
    """An action's `prepare`: a project of the caller's own, `caller's project`, where they may put experiments."""
    world.callers_project = ProjectFactory(owner=world.caller, name="caller's project")


# ---------------------------------------------------------------------------------------------------------------------
# Actions and tables
# ---------------------------------------------------------------------------------------------------------------------

READ_METHODS = {"get", "head", "options"}


@dataclass(frozen=True)
class Action:
    """One HTTP call of a resource, made in a world: a read when its method is GET, else a write."""

    method: str
    url: Callable[[World], str]
    body: Callable[[World], object] | None = None
    # Puts the world in the state the call needs (an experiment deleted, to restore it), before the snapshot.
    prepare: Callable[[World], None] | None = None
    # Query parameters of a read.
    params: Mapping | None = None

    @property
    def writes(self) -> bool:
        return self.method not in READ_METHODS

    def call(self, client: APIClient, world: World):
        url = self.url(world)
        if self.method == "get":
            return client.get(url, self.params)
        return getattr(client, self.method)(url, None if self.body is None else self.body(world), format="json")


# Caller kind -> action name -> expected status (or, for lists, the rows expected: see check_rows).
Table = Mapping[str, Mapping[str, object]]


def cases(table: Table, actions: Mapping[str, Action], callers=CALLERS) -> list:
    """One pytest case per cell of `table`, `(kind, action name, expected status)`.

    The table must name exactly `callers` and, for each, exactly the actions: a cell left out or misspelt fails at
    collection rather than going untested.
    """
    assert list(table) == list(callers), f"the table's callers {list(table)} are not {list(callers)}"
    for kind, row in table.items():
        assert set(row) == set(actions), f"{kind}: the table's actions {sorted(row)} are not {sorted(actions)}"
    return [
        pytest.param(kind, name, expected, id=f"{kind}-{name}")
        for kind, row in table.items()
        for name, expected in row.items()
    ]


def check(kind: str, action: Action, expected: int) -> None:
    """Make `action` as a `kind` caller: it answers `expected`; an allowed write changed the database, and a read or a
    refusal changed nothing."""
    world = build_world(kind)
    if action.prepare:
        action.prepare(world)
    client = world.client()
    before = snapshot()
    response = action.call(client, world)
    assert response.status_code == expected, f"{kind}: {response.status_code} {response.content[:300]!r}"
    if expected == 401:
        assert response["WWW-Authenticate"].startswith("Bearer"), kind
    if action.writes and 200 <= expected < 300:
        assert snapshot() != before, f"{kind}: answered {expected} but changed nothing"
    else:
        assert snapshot() == before, f"{kind}: answered {expected} and changed the database"


def check_rows(kind: str, action: Action, expected: int | set[str] | dict[str, str]) -> None:
    """Read a list as a `kind` caller: it holds exactly the rows named in `expected` (a set of names, or a dict of each
    name to the `role` its row shows), each once, or it answers `expected` when that is a status. Nothing changes."""
    world = build_world(kind)
    client = world.client()
    before = snapshot()
    response = action.call(client, world)
    if isinstance(expected, int):
        assert response.status_code == expected, f"{kind}: {response.status_code} {response.content[:300]!r}"
    else:
        assert response.status_code == 200, f"{kind}: {response.status_code} {response.content[:300]!r}"
        rows = response.json()
        if isinstance(expected, dict):
            assert {row["name"]: row["role"] for row in rows} == expected, kind
        else:
            assert {row["name"] for row in rows} == expected, kind
        assert len(rows) == len(expected), f"{kind}: a row shows more than once"
        assert response["X-Total-Count"] == str(len(expected)), kind
    assert snapshot() == before, f"{kind}: a read changed the database"
