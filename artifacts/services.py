"""Files that runs save (MLflow's artifacts): the rules every surface shares (the REST API, the MLflow adapter, tasks).

Each experiment (an MLflow run) owns one namespace in the "artifacts" storage, `<run_uuid>/`, that no path can leave
(artifacts.paths), and so does each logged model, `models/<model_id>/` (loggedmodels.services, which checks its own
access table before calling the `files_*` functions here). The experiment's access table decides: viewers list and
download, editors upload, maintainers delete.

Uploads are copied from the request stream in chunks to a spool file and stored only once complete and within
ARTIFACT_MAX_BYTES, so that neither a refused nor an interrupted upload leaves a file behind.
"""

import logging
import os
import posixpath
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.files import File
from django.core.files.storage import Storage, storages

from accounts.models import User
from artifacts.paths import artifact_path_clean
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import Experiment

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1024 * 1024


class ArtifactNotFound(ObjectDoesNotExist):
    """No file at that path of the run."""


class ArtifactTooLarge(Exception):
    """The upload is larger than ARTIFACT_MAX_BYTES; nothing was stored."""


class ArtifactIncomplete(Exception):
    """The request ended before the length it declared; nothing was stored."""


@dataclass(frozen=True)
class ArtifactEntry:
    """One entry of a listing: `path` from the run's root; `size` in bytes for files, None for folders."""

    path: str
    is_dir: bool
    size: int | None


@dataclass
class StoredArtifact:
    """An open stored file: read `file` in chunks and close it."""

    path: str
    file: BinaryIO
    size: int
    modified: datetime | None


def artifact_storage() -> Storage:
    return storages["artifacts"]


def _key(root: str, path: str) -> str:
    return f"{root}/{path}" if path else root


def _is_local(storage: Storage) -> bool:
    try:
        storage.path("")
    except NotImplementedError:
        return False
    return True


def _check_on_disk(storage: Storage, key: str, *, is_file: bool = False, skip: int = 1) -> None:
    """On a file system: no link on the way (it could lead out of the storage), and, where a file is to be written, no
    file in the way of a folder nor a folder where the file goes (named without the first `skip` segments, the
    namespace). Storages without a local path have neither."""
    if not _is_local(storage):
        return
    current = os.path.realpath(storage.location)
    parts = key.split("/")
    for index, part in enumerate(parts):
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise ValidationError("An artifact path must not lead through a link.")
        if not os.path.lexists(current):
            return
        last = index == len(parts) - 1
        if is_file and not last and not os.path.isdir(current):
            raise ValidationError(f"'{'/'.join(parts[skip : index + 1])}' is a file, not a folder.")
        if is_file and last and os.path.isdir(current):
            raise ValidationError(f"'{'/'.join(parts[skip:])}' is a folder.")


class _Spool(File):
    """An upload on the local disk until it is complete. On a file system storage in the same data folder, saving it
    is a rename: the file appears whole or not at all."""

    def __init__(self):
        handle = tempfile.NamedTemporaryFile(dir=settings.ARTIFACTS_SPOOL_DIR, prefix="upload-", delete=False)
        super().__init__(handle, name=handle.name)

    def temporary_file_path(self) -> str:
        return self.file.name

    def discard(self) -> None:
        self.close()
        try:
            os.unlink(self.file.name)
        except FileNotFoundError:  # Moved into place.
            pass


def _spool(stream: BinaryIO, *, length: int | None, spool: _Spool) -> int:
    limit = settings.ARTIFACT_MAX_BYTES
    if length is not None and length > limit:
        raise ArtifactTooLarge(f"The file is larger than the limit of {limit} bytes.")
    written = 0
    while True:
        chunk = stream.read(CHUNK_SIZE if length is None else min(CHUNK_SIZE, length - written))
        if not chunk:
            break
        written += len(chunk)
        if written > limit:
            raise ArtifactTooLarge(f"The file is larger than the limit of {limit} bytes.")
        spool.write(chunk)
        if length is not None and written >= length:
            break
    if length is not None and written != length:
        raise ArtifactIncomplete(f"The upload ended after {written} of {length} bytes.")
    spool.flush()
    spool.seek(0)
    return written


def artifact_put(*, actor: User, experiment: Experiment, path: str, stream: BinaryIO, length: int | None) -> int:
    """Store the file read from `stream` (`length` bytes, or up to its end when None) at `path`, replacing one there;
    answer its size. Editors and up."""
    EXPERIMENT_ACCESS.require(actor, experiment, "log")
    return files_put(root=experiment.run_uuid, path=path, stream=stream, length=length)


def files_put(*, root: str, path: str, stream: BinaryIO, length: int | None) -> int:
    """artifact_put in the namespace `root`, for the service that owns it and has checked the caller's access."""
    path = artifact_path_clean(path)
    storage = artifact_storage()
    key = _key(root, path)
    _check_on_disk(storage, key, is_file=True, skip=root.count("/") + 1)
    spool = _Spool()
    try:
        size = _spool(stream, length=length, spool=spool)
        storage.save(key, spool)
    finally:
        spool.discard()
    return size


def _open(storage: Storage, key: str):
    if hasattr(storage, "bucket_name"):
        from artifacts.s3 import S3Reader  # Only where S3 is configured: the filesystem needs no boto3.

        return S3Reader(storage, key)
    return storage.open(key, "rb")


def artifact_open(*, actor: User, experiment: Experiment, path: str) -> StoredArtifact:
    """The stored file at `path`, open for reading. Viewers and up."""
    EXPERIMENT_ACCESS.require(actor, experiment, "retrieve")
    return files_open(root=experiment.run_uuid, path=path)


def files_open(*, root: str, path: str) -> StoredArtifact:
    """artifact_open in the namespace `root`, for the service that owns it and has checked the caller's access."""
    path = artifact_path_clean(path)
    storage = artifact_storage()
    key = _key(root, path)
    _check_on_disk(storage, key)
    try:
        if not storage.exists(key):
            raise ArtifactNotFound(f"No artifact at {path}.")
        handle = _open(storage, key)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise ArtifactNotFound(f"No artifact at {path}.") from exc
    try:
        modified = storage.get_modified_time(key)
    except NotImplementedError:
        modified = None
    return StoredArtifact(path=path, file=handle, size=storage.size(key), modified=modified)


def _listing(storage: Storage, key: str, path: str) -> list[ArtifactEntry]:
    try:
        folders, files = storage.listdir(key)
    except (FileNotFoundError, NotADirectoryError):
        return []
    entries = [ArtifactEntry(posixpath.join(path, name), True, None) for name in folders]
    entries += [ArtifactEntry(posixpath.join(path, name), False, storage.size(f"{key}/{name}")) for name in files]
    return sorted(entries, key=lambda entry: entry.path)


def artifact_list(*, actor: User, experiment: Experiment, path: str = "") -> list[ArtifactEntry]:
    """The files and folders directly in the folder `path` (the run's root when empty), by path; none for a file or a
    path that does not exist, as MLflow's server answers. Viewers and up."""
    EXPERIMENT_ACCESS.require(actor, experiment, "retrieve")
    return files_list(root=experiment.run_uuid, path=path)


def files_list(*, root: str, path: str = "") -> list[ArtifactEntry]:
    """artifact_list in the namespace `root`, for the service that owns it and has checked the caller's access."""
    path = artifact_path_clean(path, allow_root=True)
    storage = artifact_storage()
    key = _key(root, path)
    _check_on_disk(storage, key)
    return _listing(storage, key, path)


def _delete_tree(storage: Storage, key: str) -> int | None:
    """Delete every file under the folder `key` (and, on a file system, the folders left empty); answer how many, or
    None when `key` is no folder."""
    try:
        folders, files = storage.listdir(key)
    except (FileNotFoundError, NotADirectoryError):
        return None
    count = 0
    for name in folders:
        count += _delete_tree(storage, f"{key}/{name}") or 0
    for name in files:
        storage.delete(f"{key}/{name}")
        count += 1
    if _is_local(storage):
        try:
            os.rmdir(storage.path(key))
        except FileNotFoundError:
            pass
    elif count:
        # Object stores built on a file system (SeaweedFS) keep the emptied folder as a key of its own; on AWS S3 this
        # deletes nothing.
        storage.delete(f"{key}/")
    return count


def artifact_delete(*, actor: User, experiment: Experiment, path: str) -> None:
    """Delete the file at `path`, or the folder and everything in it. Maintainers and up."""
    EXPERIMENT_ACCESS.require(actor, experiment, "destroy")
    files_delete(root=experiment.run_uuid, path=path)


def files_delete(*, root: str, path: str) -> None:
    """artifact_delete in the namespace `root`, for the service that owns it and has checked the caller's access."""
    path = artifact_path_clean(path)
    storage = artifact_storage()
    key = _key(root, path)
    _check_on_disk(storage, key)
    deleted = _delete_tree(storage, key)
    # A storage of keys (S3) lists any prefix, even one with nothing under it: there, nothing deleted is no folder.
    if deleted or (deleted == 0 and _is_local(storage)):
        return
    if not storage.exists(key):
        raise ArtifactNotFound(f"No artifact at {path}.")
    storage.delete(key)


def artifacts_purge(*, run_uuid: str) -> int:
    """Delete every file of the run `run_uuid`, without an access check: for the tasks that follow a deletion."""
    return files_purge(root=run_uuid)


def files_purge(*, root: str) -> int:
    """Delete every file of the namespace `root`, without an access check; answer how many."""
    return _delete_tree(artifact_storage(), root) or 0


def artifact_store_status() -> str:
    """`ok` while the artifact storage answers (a local folder: exists and is writable), else `unavailable`."""
    storage = artifact_storage()
    try:
        if _is_local(storage):
            answers = os.path.isdir(storage.location) and os.access(storage.location, os.W_OK | os.X_OK)
        elif hasattr(storage, "bucket_name"):  # S3: the bucket itself must answer, not only the endpoint.
            storage.connection.meta.client.head_bucket(Bucket=storage.bucket_name)
            answers = True
        else:
            storage.exists("health-check")
            answers = True
    except Exception as exc:  # Any storage's failure (a network error, a refused credential) is reported alike.
        logger.warning("Health check: artifact storage unavailable: %s", exc)
        answers = False
    return "ok" if answers else "unavailable"
