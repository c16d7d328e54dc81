"""The path rule of artifacts: a path names a file (or folder) inside one run's own namespace, and nothing else.

Checked before any storage call, so that no crafted path reaches another run's files, the storage's root, or the
disk outside it. Paths are POSIX-style and relative, as MLflow's client writes them.
"""

from django.core.exceptions import ValidationError

# Every common file system's limit on one name, in bytes.
SEGMENT_MAX_BYTES = 255
# Well inside every storage's key limit (S3: 1024 bytes, with the run's prefix in front).
PATH_MAX_BYTES = 900
FORBIDDEN_SEGMENTS = {".", ".."}


def artifact_path_clean(path: str, *, allow_root: bool = False) -> str:
    """`path` if it keeps to its run's namespace, else ValidationError.

    Refused: absolute paths, `.` and `..`, empty segments (`a//b`, a trailing `/`), backslashes, NUL and other control
    characters, text that is not UTF-8, and names or paths longer than the limits above. The empty path (the run's
    root) only where `allow_root` (listing).
    """
    if not isinstance(path, str):
        raise ValidationError("An artifact path must be text.")
    if path == "":
        if allow_root:
            return path
        raise ValidationError("An artifact path must name a file.")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("An artifact path must be UTF-8 text.") from exc
    if any(ord(char) < 32 or ord(char) == 127 for char in path):
        raise ValidationError("An artifact path must not hold NUL or other control characters.")
    if "\\" in path:
        raise ValidationError("An artifact path separates folders with '/', never '\\'.")
    if path.startswith("/"):
        raise ValidationError("An artifact path must be relative to its run, not absolute.")
    if len(encoded) > PATH_MAX_BYTES:
        raise ValidationError(f"An artifact path may be at most {PATH_MAX_BYTES} bytes long.")
    for segment in path.split("/"):
        if segment == "":
            raise ValidationError("An artifact path must not hold empty segments ('//' or a trailing '/').")
        if segment in FORBIDDEN_SEGMENTS:
            raise ValidationError("An artifact path must not hold '.' or '..' segments.")
        if len(segment.encode("utf-8")) > SEGMENT_MAX_BYTES:
            raise ValidationError(f"Each name in an artifact path may be at most {SEGMENT_MAX_BYTES} bytes long.")
    return path
