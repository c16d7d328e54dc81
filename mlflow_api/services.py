"""What MLflow's calls do to projects (MLflow experiments) and experiments (MLflow runs), once the lookups
(mlflow_api.lookups) have checked the caller's role: every write goes through those apps' own services, so the rules of
the REST API hold here too."""

import json
import random
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import User
from experiments import services as experiments
from experiments.models import RUN_TAG_VALUE_MAX_LENGTH, Experiment, ExperimentStatus, RunTag
from mlflow_api.entities import NOTE_TAG, RUN_NAME_TAG, param_text
from mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, does_not_exist
from projects import services as projects
from projects.models import (
    NAME_TAKEN,
    PROJECT_TAG_VALUE_MAX_LENGTH,
    LifecycleStage,
    Project,
    ProjectTag,
)
from tracking import services as tracking

PARAM_VALUE_MAX_LENGTH = 6000
BATCH_MAX_METRICS = 1000
BATCH_MAX_PARAMS = 100
BATCH_MAX_TAGS = 100

# ---------------------------------------------------------------------------------------------------------------------
# Experiments (projects)
# ---------------------------------------------------------------------------------------------------------------------


def _name_taken(exc: ValidationError) -> bool:
    return NAME_TAKEN in exc.message_dict.get("name", [])


def _validate_tag(key, value, *, max_length: int) -> None:
    tracking.validate_key(key, what="tag")
    if not isinstance(value, str) or len(value) > max_length:
        raise ValidationError(f"The value of tag {key!r} must be a string of at most {max_length} characters.")


def experiment_create(*, user: User, name, tags: list[dict]) -> Project:
    """A new project owned by the caller; the tag `mlflow.note.content` becomes its description."""
    if not isinstance(name, str) or not name.strip():
        raise MlflowError("An experiment needs a name.")
    tags = {tag.get("key"): tag.get("value", "") for tag in tags}
    for key, value in tags.items():
        _validate_tag(key, value, max_length=PROJECT_TAG_VALUE_MAX_LENGTH)
    description = tags.pop(NOTE_TAG, "")
    with transaction.atomic():
        try:
            project = projects.project_create(owner=user, name=name, description=description)
        except ValidationError as exc:
            if _name_taken(exc):
                raise MlflowError(f"Experiment {name!r} already exists.", RESOURCE_ALREADY_EXISTS) from exc
            raise
        ProjectTag.objects.bulk_create([ProjectTag(project=project, key=k, value=v) for k, v in tags.items()])
    return project


def experiment_rename(*, project: Project, actor: User, new_name) -> Project:
    if not isinstance(new_name, str) or not new_name.strip():
        raise MlflowError("The new name must not be empty.")
    try:
        return projects.project_update(project=project, actor=actor, name=new_name)
    except ValidationError as exc:
        if _name_taken(exc):
            raise MlflowError(f"Experiment {new_name!r} already exists.", RESOURCE_ALREADY_EXISTS) from exc
        raise


def experiment_set_tag(*, project: Project, actor: User, key, value) -> None:
    _validate_tag(key, value, max_length=PROJECT_TAG_VALUE_MAX_LENGTH)
    if key == NOTE_TAG:
        projects.project_update(project=project, actor=actor, description=value)
        return
    ProjectTag.objects.update_or_create(project=project, key=key, defaults={"value": value})


def experiment_delete_tag(*, project: Project, actor: User, key) -> None:
    if key == NOTE_TAG and project.description:
        projects.project_update(project=project, actor=actor, description="")
        return
    if not ProjectTag.objects.filter(project=project, key=key).delete()[0]:
        raise does_not_exist(f"No tag with key {key!r} in experiment {project.pk}.")


# ---------------------------------------------------------------------------------------------------------------------
# Runs (experiments)
# ---------------------------------------------------------------------------------------------------------------------

_ADJECTIVES = (
    "able bold brave calm clever eager fair gentle glad keen kind lively merry neat proud quick sharp sunny".split()
)
_ANIMALS = "ant bat bee cat crab deer dove duck eel fox frog gnu hare hawk lark lynx mole owl ram seal wolf yak".split()


def generated_run_name() -> str:
    """A name for a run its client did not name, in MLflow's style (`adjective-animal-NNN`)."""
    return f"{random.choice(_ADJECTIVES)}-{random.choice(_ANIMALS)}-{random.randint(100, 999)}"


def _tag_pairs(tags: list[dict], *, max_length: int) -> dict[str, str]:
    pairs = {}
    for tag in tags:
        key, value = tag.get("key"), tag.get("value", "")
        _validate_tag(key, value, max_length=max_length)
        pairs[key] = value
    return pairs


def run_create(
    *, user: User, project: Project, run_name: str | None, start_time: datetime | None, tags: list[dict]
) -> Experiment:
    """A new running experiment in `project`, owned by the caller (never by the client's `user_id`): every call makes
    one, as MLflow's server does. Distinct runs may share a project, a start time and a name (ten started in the same
    millisecond by one script), so no call is taken for the replay of another."""
    if project.lifecycle_stage != LifecycleStage.ACTIVE:
        raise MlflowError(f"The experiment {project.pk} must be in the 'active' state to add runs; it is deleted.")
    pairs = _tag_pairs(tags, max_length=RUN_TAG_VALUE_MAX_LENGTH)
    name = run_name or pairs.get(RUN_NAME_TAG) or generated_run_name()
    pairs[RUN_NAME_TAG] = name
    with transaction.atomic():
        run = experiments.experiment_create(
            owner=user,
            project=project,
            name=name,
            status=ExperimentStatus.RUNNING,
            started_at=start_time,
        )
        RunTag.objects.bulk_create([RunTag(experiment=run, key=k, value=v) for k, v in pairs.items()])
    return run


def _set_tags(run: Experiment, actor: User, pairs: dict[str, str]) -> None:
    """Upsert run tags; `mlflow.runName` also renames the run, as MLflow keeps the two in step."""
    if RUN_NAME_TAG in pairs and pairs[RUN_NAME_TAG].strip():
        experiments.experiment_log(experiment=run, actor=actor, name=pairs[RUN_NAME_TAG])
    stored = {tag.key: tag for tag in RunTag.objects.filter(experiment=run, key__in=list(pairs))}
    changed = []
    for key, value in pairs.items():
        if key in stored:
            if stored[key].value != value:
                stored[key].value = value
                changed.append(stored[key])
    RunTag.objects.bulk_create([RunTag(experiment=run, key=k, value=v) for k, v in pairs.items() if k not in stored])
    RunTag.objects.bulk_update(changed, ["value"])


def run_update(*, run: Experiment, actor: User, status, end_time: datetime | None, run_name) -> Experiment:
    """Set the status a client reports (any move: clients resume finished runs), the end time and the name."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    with transaction.atomic():
        experiments.experiment_lock(experiment=run)
        if run_name:
            _set_tags(run, actor, {RUN_NAME_TAG: run_name})
        if status is not None:
            experiments.experiment_report_status(experiment=run, actor=actor, status=status, finished_at=end_time)
    return run


def _log_params(run: Experiment, actor: User, params: list[dict]) -> None:
    """Parameters are written once: the same value again is accepted, another value refused."""
    new = {}
    for param in params:
        key, value = param.get("key"), param.get("value")
        tracking.validate_key(key, what="parameter")
        if not isinstance(value, str) or len(value) > PARAM_VALUE_MAX_LENGTH:
            raise MlflowError(f"The value of parameter {key!r} must be a string of at most {PARAM_VALUE_MAX_LENGTH}.")
        known = run.parameters.get(key, new.get(key))
        if known is not None and param_text(known) != value:
            raise MlflowError(
                f"Changing param values is not allowed. Param with key={key!r} was already logged with "
                f"value={param_text(known)!r} for run ID={run.run_uuid!r}. Attempted logging new value {value!r}."
            )
        if key not in run.parameters:
            new[key] = value
    if new:
        experiments.experiment_log(experiment=run, actor=actor, parameters={**run.parameters, **new})


def run_log_batch(
    *, run: Experiment, actor: User, metrics: list[tracking.Point], params: list[dict], tags: list[dict]
) -> None:
    """Parameters, tags and metric points of one run, all or nothing; the `log` operation on an active run."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    if len(metrics) > BATCH_MAX_METRICS or len(params) > BATCH_MAX_PARAMS or len(tags) > BATCH_MAX_TAGS:
        raise MlflowError(
            f"A batch may hold at most {BATCH_MAX_METRICS} metrics, {BATCH_MAX_PARAMS} params and "
            f"{BATCH_MAX_TAGS} tags."
        )
    pairs = _tag_pairs(tags, max_length=RUN_TAG_VALUE_MAX_LENGTH)
    if not (metrics or params or pairs):
        return
    # No savepoint inside the request's transaction: a batch that fails fails whole, and a savepoint is two round trips.
    with transaction.atomic(savepoint=False):
        # Taken once for the whole batch: its parameters, tags and metric points are written under it.
        experiments.experiment_lock(experiment=run)
        if params or pairs:
            # Read under the lock: parameters are checked against those a concurrent batch may just have written.
            run.refresh_from_db(fields=["parameters", "name"])
        if params:
            _log_params(run, actor, params)
        if pairs:
            _set_tags(run, actor, pairs)
        if metrics:
            tracking.metrics_record(experiment=run, points=metrics)


LOGGED_MODELS_TAG = "mlflow.log-model.history"


def run_record_model(*, run: Experiment, actor: User, model_json) -> None:
    """Append a model's MLmodel metadata to the run's `mlflow.log-model.history` tag, as MLflow's server does for
    `runs/log-model`; the `log` operation on an active run."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    try:
        model = json.loads(model_json) if isinstance(model_json, str) else None
    except ValueError:
        model = None
    if not isinstance(model, dict):
        raise MlflowError("Invalid value for parameter 'model_json': a JSON object is required.")
    with transaction.atomic():
        experiments.experiment_lock(experiment=run)
        stored = RunTag.objects.filter(experiment=run, key=LOGGED_MODELS_TAG).values_list("value", flat=True).first()
        try:
            history = json.loads(stored) if stored else []
        except ValueError:
            history = []
        value = json.dumps([*(history if isinstance(history, list) else []), model])
        if len(value) > RUN_TAG_VALUE_MAX_LENGTH:
            raise MlflowError(f"The run's model history would exceed {RUN_TAG_VALUE_MAX_LENGTH} characters.")
        _set_tags(run, actor, {LOGGED_MODELS_TAG: value})


def run_delete_tag(*, run: Experiment, actor: User, key) -> None:
    """Remove a key/value tag, or a plain label of that name; the `log` operation on an active run."""
    experiments.experiment_require_log(experiment=run, actor=actor)
    with transaction.atomic():
        experiments.experiment_lock(experiment=run)
        if RunTag.objects.filter(experiment=run, key=key).delete()[0]:
            return
        run.refresh_from_db(fields=["tags"])
        if key in run.tags:
            experiments.experiment_log(experiment=run, actor=actor, tags=[label for label in run.tags if label != key])
            return
    raise MlflowError(f"No tag with name: {key} in run with id {run.run_uuid}.")
