from collections.abc import Iterable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from common.db import set_fields, validated_save
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import EDITABLE_FIELDS, FINAL_STATUSES, Experiment, ExperimentStatus
from projects.access import PROJECT_ACCESS
from projects.models import LifecycleStage, Project
from tracking import services as tracking

# The moves a status change may make. A final status goes back to running only through a re-run.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    ExperimentStatus.DRAFT: (ExperimentStatus.RUNNING, ExperimentStatus.CANCELLED),
    ExperimentStatus.RUNNING: (ExperimentStatus.COMPLETED, ExperimentStatus.FAILED, ExperimentStatus.CANCELLED),
    ExperimentStatus.COMPLETED: (),
    ExperimentStatus.FAILED: (),
    ExperimentStatus.CANCELLED: (),
}


def experiment_lock(*, experiment: Experiment) -> str:
    """Lock the experiment's row until the transaction ends and answer the status it holds, or answer 404 if it is
    gone (SQLite, which has no row locks, lets one writer at a time in anyway).

    The one lock on an experiment, taken once by each write that needs it: a status move (concurrent moves are checked
    one after the other), a batch of what a tracking client logs (its parameters are checked against those a
    concurrent batch may just have written, and its metric points go in under it, see tracking's metrics_record) and a
    delete (which then either follows a batch and removes its points, or comes first and the batch finds it gone).
    Plain SQL: the ORM's compiling of this one-row SELECT showed in a batch's profile.
    """
    quote = connection.ops.quote_name
    table = Experiment._meta
    sql = (
        f"SELECT {quote(table.get_field('status').column)} FROM {quote(table.db_table)} "
        f"WHERE {quote(table.pk.column)} = %s"
    )
    if connection.features.has_select_for_update:
        sql += " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, [experiment.pk])
        row = cursor.fetchone()
    if row is None:
        raise Http404("The experiment was deleted.")
    return row[0]


def experiment_record_metrics(*, experiment: Experiment, points: Iterable[tracking.Point]) -> None:
    """Record metric points (tracking's metrics_record) under the experiment's lock."""
    points = list(points)
    # Refused before the lock, so that a refusal leaves the caller's transaction usable.
    experiment.require_active()
    tracking.validate_points(points)
    with transaction.atomic(savepoint=False):
        experiment_lock(experiment=experiment)
        tracking.metrics_record(experiment=experiment, points=points)


def experiment_transition_check(*, source: str, target: str, rerun: bool = False) -> None:
    """Raise a ValidationError on `status` unless an experiment may move from `source` to `target`.

    Staying at the same status is always allowed. The admin's form calls this to show the error beside the field.
    """
    if target not in ExperimentStatus.values:
        raise ValidationError({"status": f"Unknown status {target!r}. Known: {', '.join(ExperimentStatus.values)}."})
    if rerun:
        if source not in FINAL_STATUSES:
            raise ValidationError(
                {"status": f"Only a completed, failed or cancelled experiment can be re-run; this one is {source}."}
            )
        return
    if target == source or target in TRANSITIONS.get(source, ()):
        return
    allowed = ", ".join(TRANSITIONS.get(source, ())) or "none (re-run it to go back to running)"
    raise ValidationError(
        {"status": f"An experiment cannot move from {source} to {target}. Allowed moves from {source}: {allowed}."}
    )


def experiment_transition(
    *,
    experiment: Experiment,
    status: str,
    rerun: bool = False,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
) -> Experiment:
    """Move an experiment to `status` (checked against TRANSITIONS) and save it with its other pending changes.

    This is the one way an experiment's status changes, for the API and the admin alike. Moving to running stamps
    `started_at`, moving to a final status stamps `finished_at`, unless the caller gives that time. A re-run moves a
    final experiment back to running, starting afresh: new `started_at`, no `finished_at`, no metrics (results).
    """
    with transaction.atomic():
        # A new experiment starts from its own status (draft unless told otherwise).
        source = experiment.status if experiment._state.adding else experiment_lock(experiment=experiment)
        experiment_transition_check(source=source, target=status, rerun=rerun)
        now = timezone.now()
        if rerun:
            experiment.started_at = started_at or now
            experiment.finished_at = None
            tracking.metrics_clear(experiment=experiment)
        elif status != source and status == ExperimentStatus.RUNNING:
            experiment.started_at = started_at or now
        elif status != source and status in FINAL_STATUSES:
            experiment.finished_at = finished_at or now
        experiment.status = status
        return validated_save(experiment)


def experiment_project_check(*, actor: User, project: Project | None, experiment: Experiment | None = None) -> None:
    """Whether `actor` may put a new experiment, or move `experiment`, into `project` (None: out of any), whichever
    surface asks: a move is its owner's alone (EXPERIMENT_ACCESS "move"), and an experiment goes only into an active
    project where the actor's role allows adding experiments (PROJECT_ACCESS "add_experiment")."""
    if experiment is not None:
        # The stored project: an admin form has already set the new one on the instance.
        stored = Experiment.objects.filter(pk=experiment.pk).values_list("project_id", flat=True).first()
        if getattr(project, "pk", None) == stored:
            return
        if not EXPERIMENT_ACCESS.allows(EXPERIMENT_ACCESS.role(actor, experiment), "move"):
            raise ValidationError({"project": ["Only the experiment's owner can move it to another project."]})
    if project is None:
        return
    PROJECT_ACCESS.require(actor, project, "add_experiment")
    if project.lifecycle_stage != LifecycleStage.ACTIVE:
        raise ValidationError({"project": [f"The project {project.pk} is deleted; restore it first."]})


def experiment_create(
    *,
    owner: User,
    status: str = ExperimentStatus.DRAFT,
    results: dict[str, float] | None = None,
    experiment: Experiment | None = None,
    **fields,
) -> Experiment:
    """Create an experiment owned by `owner`, the actor. It starts as a draft, so `status` may be draft or a move from
    draft. A `project` must allow the owner to add experiments to it.

    `results` become the first points of their metrics (see experiment_update). `experiment` is an unsaved one to fill
    and save, as the admin's form builds one; by default a new one is made.
    """
    experiment_project_check(actor=owner, project=fields.get("project"))
    experiment = experiment or Experiment()
    experiment.owner = owner
    set_fields(experiment, fields, allowed=EDITABLE_FIELDS)
    # A new experiment has no run tags, and no metrics but `results` (recording them drops this, see _save): known
    # without asking the database.
    experiment.__dict__.update(results={}, run_tag_values={})
    return _save(experiment=experiment, status=status, results=results, fields=fields)


def _save(*, experiment: Experiment, status: str, results: dict[str, float] | None, fields: dict) -> Experiment:
    """Save through the status move (which stamps the times), and record `results` as the latest metric values."""
    with transaction.atomic():
        experiment_transition(
            experiment=experiment,
            status=status,
            started_at=fields.get("started_at"),
            finished_at=fields.get("finished_at"),
        )
        if results:
            tracking.metrics_set_latest(experiment=experiment, values=results)
    return experiment


def experiment_update(
    *, experiment: Experiment, actor: User, results: dict[str, float] | None = None, **fields
) -> Experiment:
    """Change an experiment's fields; a new `status` is a move checked by experiment_transition, and a new `project`
    needs the `move` access (its owner's) and a role there that allows adding experiments. An experiment a tracking
    client deleted is not changed until it is restored.

    An experiment's results are the latest values of its metrics: each of `results` that differs from its metric's
    latest value is recorded as that metric's next point, and metrics not named keep their values.
    """
    EXPERIMENT_ACCESS.require(actor, experiment, "update")
    experiment.require_active()
    if "project" in fields:
        experiment_project_check(actor=actor, project=fields["project"], experiment=experiment)
    status = fields.pop("status", experiment.status)
    set_fields(experiment, fields, allowed=EDITABLE_FIELDS)
    return _save(experiment=experiment, status=status, results=results, fields=fields)


# What a tracking client records on its run besides metrics and its status: parameters, the run's name (MLflow's tag
# `mlflow.runName`) and plain labels.
LOGGED_FIELDS = ("name", "parameters", "tags")


def experiment_require_log(*, experiment: Experiment, actor: User) -> None:
    """Refuse what a tracking client records on an experiment unless `actor` has the `log` access to it
    (EXPERIMENT_ACCESS) and it is active (Experiment.require_active)."""
    EXPERIMENT_ACCESS.require(actor, experiment, "log")
    experiment.require_active()


def experiment_log(*, experiment: Experiment, actor: User, **fields) -> Experiment:
    """Record what a tracking client logs on its run (LOGGED_FIELDS), checked as the `log` operation it is rather than
    as an `update` (experiment_require_log)."""
    experiment_require_log(experiment=experiment, actor=actor)
    set_fields(experiment, fields, allowed=LOGGED_FIELDS)
    return validated_save(experiment)


def experiment_report_status(
    *, experiment: Experiment, actor: User, status: str, finished_at: datetime | None = None
) -> Experiment:
    """Set the status a tracking client (MLflow) reports for its run.

    Unlike experiment_transition, any move is allowed: a client reports what happened to a run it drives (it may
    resume a finished run, or mark a scheduled one failed). Running clears `finished_at` and stamps `started_at` if
    unset; a final status stamps `finished_at` (now, unless given). Metrics are kept. Checked as `log`, as the rest of
    what a client records (experiment_require_log).
    """
    experiment_require_log(experiment=experiment, actor=actor)
    now = timezone.now()
    experiment.status = status
    if status == ExperimentStatus.RUNNING:
        experiment.finished_at = None
        experiment.started_at = experiment.started_at or now
    elif status in FINAL_STATUSES:
        experiment.finished_at = finished_at or experiment.finished_at or now
        if experiment.started_at and experiment.finished_at < experiment.started_at:
            experiment.finished_at = experiment.started_at
    return validated_save(experiment)


def experiment_soft_delete(*, experiment: Experiment, actor: User) -> Experiment:
    """Mark an experiment deleted, as tracking clients delete runs: it stays readable and can be restored."""
    EXPERIMENT_ACCESS.require(actor, experiment, "soft_delete")
    experiment.lifecycle_stage = LifecycleStage.DELETED
    return validated_save(experiment)


def experiment_restore(*, experiment: Experiment, actor: User) -> Experiment:
    """Undo experiment_soft_delete."""
    EXPERIMENT_ACCESS.require(actor, experiment, "restore")
    experiment.lifecycle_stage = LifecycleStage.ACTIVE
    return validated_save(experiment)


def experiment_rerun(*, experiment: Experiment, actor: User) -> Experiment:
    """Run a completed, failed or cancelled experiment again: back to running, its finish time and results cleared."""
    EXPERIMENT_ACCESS.require(actor, experiment, "rerun")
    experiment.require_active()
    return experiment_transition(experiment=experiment, status=ExperimentStatus.RUNNING, rerun=True)


def experiment_delete(*, experiment: Experiment, actor: User) -> None:
    """Delete an experiment, with its metric history."""
    EXPERIMENT_ACCESS.require(actor, experiment, "destroy")
    with transaction.atomic():
        experiment_lock(experiment=experiment)
        experiment.delete()
