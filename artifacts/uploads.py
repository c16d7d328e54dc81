"""An upload's body as a stream, shared by the REST API and the MLflow adapter: never `request.body`, which would
hold the whole file in memory."""

import io

from django.core.exceptions import ValidationError
from django.http import HttpRequest

# After a refused upload, read at most this much more of its body, so that a client which sent a little too much gets
# the answer instead of a reset connection; a larger rest is left unread and the server closes the connection.
DRAIN_MAX_BYTES = 1024 * 1024


def request_body(request: HttpRequest) -> tuple[io.RawIOBase, int | None]:
    """The body as a stream, and its declared length (None for a chunked body, read to its end)."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise ValidationError("Invalid Content-Length header.")
        return request, int(declared)
    if request.META.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        # gunicorn decodes the chunks; Django's own stream would read nothing without a length.
        return request.META["wsgi.input"], None
    return io.BytesIO(b""), 0


def drain(stream, length: int | None) -> None:
    """Read what is left of a refused upload's body, if that is little (see DRAIN_MAX_BYTES)."""
    if length is not None and length > DRAIN_MAX_BYTES:
        return
    left = DRAIN_MAX_BYTES
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            return
        left -= len(chunk)
