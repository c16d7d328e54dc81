import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.tests.factories import UserFactory
from artifacts import services
from artifacts.services import ArtifactEntry, ArtifactIncomplete, ArtifactNotFound, ArtifactTooLarge
from experiments.tests.factories import ExperimentFactory
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(user):
    return ExperimentFactory(owner=user, project=ProjectFactory(owner=user))


def root() -> Path:
    return Path(settings.STORAGES["artifacts"]["OPTIONS"]["location"])


def spooled() -> list[str]:
    return os.listdir(settings.ARTIFACTS_SPOOL_DIR)


def put(user, run, path: str, data: bytes, length: int | None = -1) -> int:
    length = len(data) if length == -1 else length
    return services.artifact_put(actor=user, experiment=run, path=path, stream=io.BytesIO(data), length=length)


def read(user, run, path: str) -> bytes:
    stored = services.artifact_open(actor=user, experiment=run, path=path)
    with stored.file:
        return stored.file.read()


def test_an_upload_is_stored_under_its_run_privately_and_read_back(user, run):
    assert put(user, run, "plots/loss.png", b"\x89PNG data") == 9

    assert read(user, run, "plots/loss.png") == b"\x89PNG data"
    stored = root() / run.run_uuid / "plots" / "loss.png"
    assert stored.read_bytes() == b"\x89PNG data"
    assert oct(stored.stat().st_mode & 0o777) == "0o600"
    assert oct(stored.parent.stat().st_mode & 0o777) == "0o700"
    assert spooled() == []


def test_an_upload_replaces_the_file_of_the_same_name(user, run):
    put(user, run, "notes.txt", b"first")
    put(user, run, "notes.txt", b"second")

    assert read(user, run, "notes.txt") == b"second"
    assert sorted(os.listdir(root() / run.run_uuid)) == ["notes.txt"]


def test_a_chunked_upload_is_read_to_its_end(user, run):
    data = os.urandom(3 * services.CHUNK_SIZE + 17)
    assert put(user, run, "big.bin", data, length=None) == len(data)
    assert read(user, run, "big.bin") == data


@pytest.mark.parametrize("length", [11, None], ids=["declared", "chunked"])
def test_an_upload_over_the_limit_is_refused_and_leaves_nothing(user, run, settings, length):
    settings.ARTIFACT_MAX_BYTES = 10
    with pytest.raises(ArtifactTooLarge):
        put(user, run, "too/big.bin", b"x" * 11, length=length)

    assert not (root() / run.run_uuid).exists()
    assert spooled() == []


def test_an_upload_at_the_limit_is_stored(user, run, settings):
    settings.ARTIFACT_MAX_BYTES = 10
    assert put(user, run, "exact.bin", b"x" * 10) == 10


def test_an_interrupted_upload_leaves_nothing_and_keeps_the_old_file(user, run):
    put(user, run, "model.pkl", b"old")
    with pytest.raises(ArtifactIncomplete):
        put(user, run, "model.pkl", b"only part", length=100)

    assert read(user, run, "model.pkl") == b"old"
    assert spooled() == []


def test_a_listing_names_folders_and_files_with_sizes(user, run):
    put(user, run, "a.txt", b"abc")
    put(user, run, "plots/x.png", b"12345")
    put(user, run, "plots/deep/y.json", b"{}")

    assert services.artifact_list(actor=user, experiment=run) == [
        ArtifactEntry("a.txt", False, 3),
        ArtifactEntry("plots", True, None),
    ]
    assert services.artifact_list(actor=user, experiment=run, path="plots") == [
        ArtifactEntry("plots/deep", True, None),
        ArtifactEntry("plots/x.png", False, 5),
    ]
    assert services.artifact_list(actor=user, experiment=run, path="a.txt") == []
    assert services.artifact_list(actor=user, experiment=run, path="missing") == []


def test_runs_do_not_see_each_others_files(user, run):
    other = ExperimentFactory(owner=user, project=run.project)
    put(user, run, "a.txt", b"abc")

    assert services.artifact_list(actor=user, experiment=other) == []
    with pytest.raises(ArtifactNotFound):
        read(user, other, "a.txt")


def test_deleting_a_folder_deletes_everything_in_it(user, run):
    put(user, run, "plots/x.png", b"1")
    put(user, run, "plots/deep/y.json", b"2")
    put(user, run, "kept.txt", b"3")

    services.artifact_delete(actor=user, experiment=run, path="plots")

    assert services.artifact_list(actor=user, experiment=run) == [ArtifactEntry("kept.txt", False, 1)]
    assert sorted(os.listdir(root() / run.run_uuid)) == ["kept.txt"]


def test_deleting_a_file_and_then_a_missing_one(user, run):
    put(user, run, "a.txt", b"abc")
    services.artifact_delete(actor=user, experiment=run, path="a.txt")
    with pytest.raises(ArtifactNotFound):
        services.artifact_delete(actor=user, experiment=run, path="a.txt")


def test_purging_a_run_deletes_all_its_files(user, run):
    put(user, run, "a.txt", b"abc")
    put(user, run, "d/b.txt", b"abc")

    assert services.artifacts_purge(run_uuid=run.run_uuid) == 2
    assert not (root() / run.run_uuid).exists()


def test_a_folder_is_not_a_file(user, run):
    put(user, run, "d/b.txt", b"abc")

    with pytest.raises(ArtifactNotFound):
        read(user, run, "d")
    with pytest.raises(ValidationError):
        put(user, run, "d", b"over a folder")
    with pytest.raises(ValidationError):
        put(user, run, "d/b.txt/c", b"under a file")


def test_a_link_on_disk_is_refused_before_it_is_followed(user, run, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    (root() / run.run_uuid).mkdir()
    (root() / run.run_uuid / "escape").symlink_to(outside)

    with pytest.raises(ValidationError):
        read(user, run, "escape/secret.txt")
    with pytest.raises(ValidationError):
        put(user, run, "escape/new.txt", b"x")
    with pytest.raises(ValidationError):
        services.artifact_list(actor=user, experiment=run, path="escape")
    with pytest.raises(ValidationError):
        services.artifact_delete(actor=user, experiment=run, path="escape/secret.txt")
    assert sorted(os.listdir(outside)) == ["secret.txt"]


# Role in the run's project -> (list, download, upload, delete) allowed: written out, not derived from the access table.
ROLES = {
    "stranger": (False, False, False, False),
    "viewer": (True, True, False, False),
    "editor": (True, True, True, False),
    "maintainer": (True, True, True, True),
    "project owner": (True, True, True, True),
    "run owner": (True, True, True, True),
}


def _caller(kind: str, run):
    if kind in {"viewer", "editor", "maintainer"}:
        return ProjectMembershipFactory(project=run.project, role=kind).user
    return {"project owner": run.project.owner, "run owner": run.owner}.get(kind) or UserFactory()


@pytest.mark.parametrize(("kind", "allowed"), ROLES.items(), ids=list(ROLES))
def test_the_experiments_roles_decide(kind, allowed):
    run = ExperimentFactory(project=ProjectFactory())
    put(run.owner, run, "a.txt", b"abc")
    caller = _caller(kind, run)
    operations = [
        lambda: services.artifact_list(actor=caller, experiment=run),
        lambda: read(caller, run, "a.txt"),
        lambda: put(caller, run, "b.txt", b"new"),
        lambda: services.artifact_delete(actor=caller, experiment=run, path="a.txt"),
    ]
    outcomes = []
    for operation in operations:
        try:
            operation()
        except PermissionDenied:
            outcomes.append(False)
        else:
            outcomes.append(True)

    assert tuple(outcomes) == allowed
    assert (root() / run.run_uuid / "b.txt").exists() == allowed[2]
    assert (root() / run.run_uuid / "a.txt").exists() == (not allowed[3])
