import ast
import io
import os
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from accounts.services import user_delete
from artifacts import lifecycle, services
from experiments.services import experiment_delete, experiment_soft_delete
from experiments.tests.factories import ExperimentFactory
from projects.services import project_delete, project_soft_delete
from projects.tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db


def root() -> str:
    return str(settings.STORAGES["artifacts"]["OPTIONS"]["location"])


def folders() -> list[str]:
    return sorted(os.listdir(root()))


def with_files(experiment) -> str:
    services.artifact_put(
        actor=experiment.owner, experiment=experiment, path="d/a.txt", stream=io.BytesIO(b"a"), length=1
    )
    return experiment.run_uuid


@pytest.fixture
def project(user):
    return ProjectFactory(owner=user)


def test_deleting_an_experiment_deletes_its_files_once_committed(user, project, django_capture_on_commit_callbacks):
    deleted = with_files(ExperimentFactory(owner=user, project=project))
    kept = with_files(ExperimentFactory(owner=user, project=project))
    experiment = project.experiments.get(run_uuid=deleted)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        experiment_delete(experiment=experiment, actor=user)
    assert sorted(folders()) == sorted([deleted, kept])  # Not before the commit.
    for callback in callbacks:
        callback()

    assert folders() == [kept]


def test_deleting_an_account_deletes_its_experiments_files(user, project, django_capture_on_commit_callbacks):
    other = with_files(ExperimentFactory())
    with_files(ExperimentFactory(owner=user, project=project))

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=user, actor=user)

    assert folders() == [other]


def test_deleting_a_project_keeps_the_files_of_the_experiments_it_leaves(
    user, project, django_capture_on_commit_callbacks
):
    run = with_files(ExperimentFactory(owner=user, project=project))

    with django_capture_on_commit_callbacks(execute=True):
        project_delete(project=project, actor=user)

    assert folders() == [run]


def test_a_soft_delete_keeps_the_files(user, project, django_capture_on_commit_callbacks):
    experiment = ExperimentFactory(owner=user, project=project)
    run = with_files(experiment)

    with django_capture_on_commit_callbacks(execute=True):
        experiment_soft_delete(experiment=experiment, actor=user)
        project_soft_delete(project=project, actor=user)

    assert folders() == [run]


def test_a_failed_purge_is_tried_again_later_with_a_growing_delay():
    with mock.patch.object(lifecycle, "artifacts_purge", side_effect=OSError("disk gone")):
        with pytest.raises(OSError):
            lifecycle.artifacts_purge_run("a" * 32, attempt=3)

    retry = Schedule.objects.get(func=lifecycle.TASK)
    assert (retry.args, ast.literal_eval(retry.kwargs)["attempt"]) == (f"('{'a' * 32}',)", 4)
    assert timedelta(seconds=235) < retry.next_run - timezone.now() <= timedelta(seconds=240)


def test_purge_artifacts_deletes_what_stayed_deleted_and_orphans(user, project):
    old_run = ExperimentFactory(owner=user, project=project)
    in_old_project = ExperimentFactory(owner=user, project=ProjectFactory(owner=user))
    recent_run = ExperimentFactory(owner=user, project=project)
    active = ExperimentFactory(owner=user, project=project)
    names = {with_files(e): name for e, name in [(old_run, "old"), (in_old_project, "in old project")]}
    names.update({with_files(recent_run): "recent", with_files(active): "active"})
    os.makedirs(os.path.join(root(), "f" * 32))  # A folder whose experiment is gone.
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        experiment_soft_delete(experiment=old_run, actor=user)
        project_soft_delete(project=in_old_project.project, actor=user)
    experiment_soft_delete(experiment=recent_run, actor=user)

    spool = Path(settings.ARTIFACTS_SPOOL_DIR)
    (spool / "upload-killed").write_bytes(b"part")
    os.utime(spool / "upload-killed", (time.time() - 2 * 86400,) * 2)
    (spool / "upload-in-progress").write_bytes(b"part")

    out = io.StringIO()
    call_command("purge_artifacts", "--older-than-days", "30", "--dry-run", stdout=out)
    assert out.getvalue() == "Would delete the artifacts of 3 run(s), and 1 spool file(s).\n"
    assert len(folders()) == 5

    out = io.StringIO()
    call_command("purge_artifacts", "--older-than-days", "30", stdout=out)
    assert out.getvalue() == "Deleted 2 file(s) of 3 run(s), and 1 spool file(s).\n"
    assert sorted(names[name] for name in folders()) == ["active", "recent"]
    assert sorted(os.listdir(spool)) == ["upload-in-progress"]


def test_health_reports_the_artifact_store(api_client, settings, tmp_path):
    assert api_client.get("/health").json()["artifacts"] == "ok"

    artifacts = {**settings.STORAGES["artifacts"]}
    artifacts["OPTIONS"] = {**artifacts["OPTIONS"], "location": tmp_path / "missing"}
    settings.STORAGES = {**settings.STORAGES, "artifacts": artifacts}
    response = api_client.get("/health")
    assert (response.status_code, response.json()["artifacts"]) == (200, "unavailable")
