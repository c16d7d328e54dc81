"""Artifacts follow their experiment: deleted with it, once the deletion has committed, by the task worker; kept
through a soft delete (MLflow's `delete_run` and `delete_experiment`, which can be restored) until `purge_artifacts`
removes those of what stayed deleted long enough, as `mlflow gc` does, and the spool files of uploads whose worker was
killed.

Experiments are deleted by their own app, by a user's deletion (the cascade), and by the admin, none of which knows
about files: the artifacts app hears of each deleted row through `post_delete` (registered in ArtifactsConfig.ready).
A purge that fails is tried again later, each delay twice the one before (up to an hour), until it succeeds; every
failed try is a failed task in the admin.
"""

import datetime
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

from artifacts.services import artifact_storage, artifacts_purge
from common.queue import queue_broker
from experiments.models import Experiment
from projects.models import LifecycleStage

logger = logging.getLogger(__name__)

TASK = "artifacts.lifecycle.artifacts_purge_run"
RETRY_FIRST_SECONDS = 60
RETRY_MAX_SECONDS = 3600


def artifacts_purge_on_commit(*, run_uuid: str, using: str | None = None) -> None:
    """Queue the deletion of a run's files once the current transaction commits (at once outside one)."""

    def enqueue_purge() -> None:  # A named function: a robust callback that fails is logged by its name.
        async_task(TASK, run_uuid, task_name=f"delete artifacts of run {run_uuid}", broker=queue_broker())

    transaction.on_commit(enqueue_purge, using=using, robust=True)


def experiment_deleted(sender, instance: Experiment, using: str, **kwargs) -> None:
    """`post_delete` of an experiment: its files go once the deletion commits."""
    artifacts_purge_on_commit(run_uuid=instance.run_uuid, using=using)


def artifacts_purge_run(run_uuid: str, attempt: int = 1) -> str:
    """The task: delete every file of a run; when that fails, schedule the next try."""
    try:
        count = artifacts_purge(run_uuid=run_uuid)
    except Exception:
        delay = min(RETRY_FIRST_SECONDS * 2 ** (attempt - 1), RETRY_MAX_SECONDS)
        schedule(
            TASK,
            run_uuid,
            attempt=attempt + 1,
            schedule_type=Schedule.ONCE,
            next_run=timezone.now() + datetime.timedelta(seconds=delay),
            q_options={"task_name": f"delete artifacts of run {run_uuid} (try {attempt + 1})"},
        )
        logger.warning("Deleting the files of run %s failed (try %s); trying again in %s s", run_uuid, attempt, delay)
        raise
    return f"deleted {count} file(s)"


# A spool file this old belongs to no upload in progress: its worker was killed (gunicorn's timeout, a restart).
SPOOL_MAX_AGE = datetime.timedelta(days=1)


@dataclass
class PurgeSummary:
    """What a purge did (or, in a dry run, would do): runs whose files were deleted, files deleted, and spool files
    left by uploads whose worker was killed."""

    runs: int
    files: int
    spooled: int = 0


def _stale_spool_files() -> list[Path]:
    cutoff = (timezone.now() - SPOOL_MAX_AGE).timestamp()
    return [path for path in Path(settings.ARTIFACTS_SPOOL_DIR).iterdir() if path.stat().st_mtime < cutoff]


def artifacts_purge_deleted(*, older_than: datetime.timedelta, dry_run: bool = False) -> PurgeSummary:
    """Delete the files of experiments soft-deleted (or in a project soft-deleted) and unchanged for `older_than`,
    and of folders whose experiment no longer exists (a deletion whose task was lost)."""
    cutoff = timezone.now() - older_than
    deleted = Q(lifecycle_stage=LifecycleStage.DELETED, updated_at__lt=cutoff) | Q(
        project__lifecycle_stage=LifecycleStage.DELETED, project__updated_at__lt=cutoff
    )
    run_uuids = set(Experiment.objects.filter(deleted).values_list("run_uuid", flat=True))
    try:
        folders, _ = artifact_storage().listdir("")
    except FileNotFoundError:
        folders = []
    known = set(Experiment.objects.filter(run_uuid__in=folders).values_list("run_uuid", flat=True))
    run_uuids |= set(folders) - known
    runs = files = 0
    for run_uuid in sorted(run_uuids & set(folders)):
        runs += 1
        if not dry_run:
            files += artifacts_purge(run_uuid=run_uuid)
    stale = _stale_spool_files()
    if not dry_run:
        for path in stale:
            path.unlink(missing_ok=True)
    return PurgeSummary(runs=runs, files=files, spooled=len(stale))
