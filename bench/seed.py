"""Bulk data for the benchmarks: users, projects, memberships and experiments, in the shape a `Shape` describes.

Runs inside Django (bench/inprocess.py sets it up). Users, projects and memberships are few and go through the ORM's
`bulk_create`, so that every field gets its model default. Experiments are many: their rows are built here column by
column from the model's own fields (any column this module does not know gets the field's default) and loaded with
COPY on PostgreSQL and `executemany` on SQLite, which is tens of times faster than building model instances.

Every model constraint holds: `run_uuid` is 32 distinct hex digits, `name_key` and `username_key` are the folded
names, statuses and roles are valid ones, no owner is a member of their own project.
"""

import datetime as dt
import hashlib
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from accounts.models import User
from common.text import fold
from experiments.models import Experiment, ExperimentStatus
from projects.models import Project, ProjectMembership, ProjectRole

PASSWORD = "bench-correct-horse-battery"
CALLER = "bench-caller"
WIDE_CALLER = "bench-wide"
SEARCHED_WORD = "resnet"
# Experiment i is named after SEARCHED_WORD when i % SEARCH_EVERY == SEARCH_AT: 1 % of them.
SEARCH_EVERY, SEARCH_AT = 100, 7
CREATED_FROM = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
STATUSES = list(ExperimentStatus.values)
MEMBER_ROLES = [ProjectRole.VIEWER, ProjectRole.EDITOR, ProjectRole.MAINTAINER]
ROWS_PER_BATCH = 50_000
SQLITE_CACHE_KIB = 1024 * 1024


@dataclass(frozen=True)
class Shape:
    """Who owns and sees what. Users 0 and 1 are the callers measured; the others own the projects.

    Experiment i < `caller_own` belongs to the caller, outside any project. Every later experiment i lies in project
    i % projects and belongs to that project's owner, so the experiments spread evenly over the projects at any size,
    and growing a database keeps its shape. The caller is a live viewer of `caller_projects` and an expired one of
    `caller_expired_projects`; the wide caller is a live viewer of every project whose index % `wide_every` is
    `wide_at`, and so sees 1/`wide_every` of all experiments (100k of 1M).
    """

    users: int = 1000
    projects: int = 2000
    caller_own: int = 30
    caller_projects: tuple[int, ...] = (30, 31, 32)
    caller_expired_projects: tuple[int, ...] = (40, 41)
    wide_every: int = 10
    wide_at: int = 5
    members_per_project: int = 2

    def project_owner(self, project: int) -> int:
        """The index of the user owning project `project`: never one of the two callers."""
        return 2 + project % (self.users - 2)

    def wide_projects(self) -> list[int]:
        return [k for k in range(self.projects) if k % self.wide_every == self.wide_at]

    def shared_experiment(self) -> int:
        """The first experiment the caller sees through a membership, not through owning it."""
        return next(i for i in itertools.count(self.caller_own) if i % self.projects in self.caller_projects)


SCALE = Shape()
# Registry's own throughput: 11 users, 9 of whom own 2 projects each; with 10k experiments, 1000 per user but the wide
# caller. The caller owns 1000 and sees 1500 more through 3 projects.
THROUGHPUT = Shape(users=11, projects=18, caller_own=1000, caller_projects=(0, 1, 2), caller_expired_projects=())
THROUGHPUT_EXPERIMENTS = 10_000


def project_name(project: int) -> str:
    return f"bench-project-{project}"


def run_uuid(index: int) -> str:
    """32 hex digits, distinct for each index, spread like random ids (as new_run_uuid's), yet found again."""
    return hashlib.blake2b(index.to_bytes(8, "big"), digest_size=16).hexdigest()


def seed_people_and_projects(shape: Shape) -> None:
    """The users, their projects and the memberships; once per database, before any experiment."""
    now = dt.datetime.now(dt.UTC)
    password = make_password(PASSWORD)
    unusable = make_password(None)
    names = usernames(shape)
    User.objects.bulk_create(
        [
            User(
                username=name,
                username_key=fold(name),
                email=f"{name}@example.com",
                email_key=fold(f"{name}@example.com"),
                full_name=name,
                password=password if n < 2 else unusable,
            )
            for n, name in enumerate(names)
        ],
        batch_size=1000,
    )
    users = user_ids(shape)
    Project.objects.bulk_create(
        [
            Project(name=project_name(k), name_key=fold(project_name(k)), owner_id=users[shape.project_owner(k)])
            for k in range(shape.projects)
        ],
        batch_size=1000,
    )
    projects = project_ids(shape)

    memberships = {}
    for k in range(shape.projects):
        owner = shape.project_owner(k)
        for m in range(1, shape.members_per_project + 1):
            member = 2 + (owner - 2 + m) % (shape.users - 2)
            memberships[k, member] = MEMBER_ROLES[(k + m) % len(MEMBER_ROLES)], None
    for k in shape.caller_projects:
        memberships[k, 0] = ProjectRole.VIEWER, None
    for k in shape.caller_expired_projects:
        memberships[k, 0] = ProjectRole.VIEWER, now - dt.timedelta(days=1)
    for k in shape.wide_projects():
        memberships[k, 1] = ProjectRole.VIEWER, now + dt.timedelta(days=365)
    ProjectMembership.objects.bulk_create(
        [
            ProjectMembership(project_id=projects[k], user_id=users[member], role=role, expires_at=expires_at)
            for (k, member), (role, expires_at) in memberships.items()
        ],
        batch_size=5000,
    )


def usernames(shape: Shape) -> list[str]:
    return [CALLER, WIDE_CALLER, *(f"bench-user-{n}" for n in range(2, shape.users))]


def user_ids(shape: Shape) -> list[int]:
    """The ids of the shape's users, by index."""
    names = usernames(shape)
    found = dict(User.objects.filter(username__in=names).values_list("username", "id"))
    return [found[name] for name in names]


def project_ids(shape: Shape) -> list[int]:
    """The ids of the shape's projects, by index."""
    names = [project_name(k) for k in range(shape.projects)]
    found = dict(Project.objects.filter(name__in=names).values_list("name", "id"))
    return [found[name] for name in names]


def experiment_id(index: int) -> int:
    return Experiment.objects.values_list("id", flat=True).get(run_uuid=run_uuid(index))


def experiment_rows(shape: Shape, start: int, stop: int, columns: list) -> Iterator[tuple]:
    """Rows of `columns` (Experiment's concrete fields) for experiments start .. stop - 1, ready for the database.

    Not a generator itself: its queries run now, before the rows stream into a COPY that holds the connection.
    """
    users, projects = user_ids(shape), project_ids(shape)
    owners = [users[shape.project_owner(k)] for k in range(shape.projects)]
    adapt_datetime = connection.ops.adapt_datetimefield_value
    template = [field.get_db_prep_save(field.get_default(), connection) for field in columns]
    at = {field.attname: position for position, field in enumerate(columns)}
    name, status, uuid, owner, project = (at[n] for n in ("name", "status", "run_uuid", "owner_id", "project_id"))
    created, updated = at["created_at"], at["updated_at"]

    def row(i: int) -> tuple:
        values = template.copy()
        values[name] = f"{SEARCHED_WORD}-{i}" if i % SEARCH_EVERY == SEARCH_AT else f"run-{i}"
        values[status] = STATUSES[i % len(STATUSES)]
        values[uuid] = run_uuid(i)
        own = i < shape.caller_own
        values[owner] = users[0] if own else owners[i % shape.projects]
        values[project] = None if own else projects[i % shape.projects]
        values[created] = values[updated] = adapt_datetime(CREATED_FROM + dt.timedelta(seconds=i))
        return tuple(values)

    return map(row, range(start, stop))


def seed_experiments(shape: Shape, start: int, stop: int) -> None:
    """Insert experiments start .. stop - 1 (see Shape) in one transaction, then refresh the planner's statistics."""
    columns = [field for field in Experiment._meta.concrete_fields if not field.primary_key]
    table = connection.ops.quote_name(Experiment._meta.db_table)
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    rows = experiment_rows(shape, start, stop, columns)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # Room for the indexes being filled (run_uuid's keys land all over it): the default 2 MB cache would
            # read and write the same pages again and again.
            cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('%s' for _ in columns)})"
            while batch := list(itertools.islice(rows, ROWS_PER_BATCH)):
                cursor.executemany(insert, batch)
    analyze()


def analyze() -> None:
    """Fresh planner statistics (and, on PostgreSQL, a fresh visibility map), as a long-lived database would have."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def grow(shape: Shape, have: int, want: int) -> float:
    """Bring the database from `have` to `want` experiments (people and projects first when empty); the seconds."""
    started = time.perf_counter()
    if have == 0:
        seed_people_and_projects(shape)
    seed_experiments(shape, have, want)
    return time.perf_counter() - started
