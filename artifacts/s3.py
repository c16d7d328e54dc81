"""Reading an S3 object as a stream: django-storages' S3File copies a whole object to a local file before its first
byte can be read, which delays large downloads and fills the instance's disk; this reads it from the store as it is
sent, from any offset (a byte range is one ranged GET)."""

from storages.backends.s3 import S3Storage
from storages.utils import clean_name


class S3Reader:
    """A read-only, forward-reading file over one S3 object: `seek` before the first `read` picks the offset."""

    def __init__(self, storage: S3Storage, name: str):
        self.object = storage.bucket.Object(storage._normalize_name(clean_name(name)))
        self.position = 0
        self.body = None

    def seek(self, offset: int, whence: int = 0) -> int:
        if self.body is not None or whence != 0:
            raise OSError("An S3 reader seeks only to an offset, before it reads.")
        self.position = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        if self.body is None:
            ranged = {"Range": f"bytes={self.position}-"} if self.position else {}
            self.body = self.object.get(**ranged)["Body"]
        data = self.body.read(None if size < 0 else size)
        self.position += len(data)
        return data

    def close(self) -> None:
        if self.body is not None:
            self.body.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
