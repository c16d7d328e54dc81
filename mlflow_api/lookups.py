"""The lookups of MLflow's calls: the project an `experiment_id` names (experiment "0" is the caller's default
project) and the experiment a `run_id` names, each checked against the caller's role in the access tables
(projects.access, experiments.access) for the operation asked."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError

from accounts.models import MAX_ID, User
from common.text import fold
from experiments import selectors
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment
from mlflow_api.errors import MlflowError, does_not_exist
from projects import services as projects
from projects.access import PROJECT_ACCESS
from projects.models import LifecycleStage, Project, ProjectRole

DEFAULT_PROJECT_NAME = "Default"
DEFAULT_PROJECT_DESCRIPTION = "Runs logged without an experiment."


def default_project(*, user: User, create: bool = True) -> Project | None:
    """The caller's own project that MLflow's experiment "0" stands for, made on first use."""
    found = Project.objects.with_role(user).filter(owner=user, name_key=fold(DEFAULT_PROJECT_NAME)).first()
    if found is not None or not create:
        return found
    try:
        projects.project_create(owner=user, name=DEFAULT_PROJECT_NAME, description=DEFAULT_PROJECT_DESCRIPTION)
    except (ValidationError, IntegrityError):  # Made by a concurrent request.
        pass
    return Project.objects.with_role(user).get(owner=user, name_key=fold(DEFAULT_PROJECT_NAME))


def unsaved_default_project(*, user: User) -> Project:
    """The caller's default project as their first run in experiment "0" will make it, unsaved: what a read of that
    experiment shows until then.

    A read never writes, so it cannot make the project (a read-only token could then write through a GET). Nor does
    it answer RESOURCE_DOES_NOT_EXIST: MLflow's server always has experiment 0, and its client reads it before logging
    to it (`set_experiment(experiment_id="0")` raises on a 404), then sends "0" to runs/create, which makes it.
    """
    project = Project(
        owner=user,
        name=DEFAULT_PROJECT_NAME,
        description=DEFAULT_PROJECT_DESCRIPTION,
        lifecycle_stage=LifecycleStage.ACTIVE,
        created_at=user.date_joined,
        updated_at=user.date_joined,
    )
    project.role = ProjectRole.OWNER
    return project


def experiment_number(experiment_id: str) -> int | None:
    """The project id MLflow's `experiment_id` names, None where no project has it (out of the ids' range); an id that
    is no integer at all is refused with 400, as MLflow's server parses it (Python's int())."""
    try:
        number = int(experiment_id)
    except ValueError as exc:
        raise MlflowError(f"Invalid experiment ID '{experiment_id}'. Experiment ID must be a valid integer.") from exc
    return number if 0 < number <= MAX_ID else None


def project_for(*, user: User, experiment_id, operation: str) -> Project:
    """The project MLflow's `experiment_id` names, if the caller's role allows `operation` (PROJECT_ACCESS) in it.

    Experiment "0" is the caller's default project, made by the first write that names it; a read of it before then
    sees it unsaved (unsaved_default_project).
    """
    experiment_id = str(experiment_id)
    if experiment_id == "0" and operation == "retrieve":
        project = default_project(user=user, create=False) or unsaved_default_project(user=user)
    elif experiment_id == "0":
        project = default_project(user=user)
    else:
        number = experiment_number(experiment_id)
        project = Project.objects.with_role(user).filter(pk=number).first() if number is not None else None
        if project is None:
            raise does_not_exist(f"No experiment with id {experiment_id}.")
    PROJECT_ACCESS.remember(user, project, project.role)
    PROJECT_ACCESS.require(user, project, operation)
    return project


def project_by_name(*, user: User, name: str) -> Project:
    """The project of this name the caller may read: their own first, then those shared with them (oldest first)."""
    # Names compare as the unique constraint compares them (folded), so the name a create refused is the one found.
    candidates = Project.objects.visible_to(user).filter(name_key=fold(name.strip())).order_by("pk")
    own = [p for p in candidates if p.owner_id == user.pk]
    found = own[0] if own else next(iter(candidates), None)
    if found is None:
        raise does_not_exist(f"No experiment named {name!r}.")
    return found


def run_for(*, user: User, run_id, operation: str, shown: bool = False) -> Experiment:
    """The experiment MLflow's `run_id` names, if the caller's access allows `operation` (EXPERIMENT_ACCESS) on it;
    `shown` reads with it what a run's answer shows (its owner, latest metrics and tags)."""
    run = selectors.run_get(user=user, run_id=str(run_id), shown=shown)
    if run is None:
        raise does_not_exist(f"Run with id={run_id} not found.")
    EXPERIMENT_ACCESS.remember(user, run, run.access_role)
    EXPERIMENT_ACCESS.require(user, run, operation)
    return run
