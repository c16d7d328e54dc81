"""A stored artifact as an HTTP download, shared by the REST API and the MLflow adapter: streamed in blocks, with
`Content-Length`, an `ETag`, one byte range at a time (`Range`, `If-Range`), and never run by a browser.

The web UI shares this origin, so a file that a browser could run (HTML, SVG, JavaScript, XML, any type not known to
be inert) is sent as an attachment, and every file carries `nosniff` and a sandboxing Content-Security-Policy.
"""

import mimetypes
import posixpath
import re

from django.http import FileResponse, HttpRequest, HttpResponse

from artifacts.services import StoredArtifact

# Types a browser shows without running anything: these alone may be shown inline.
INLINE_TYPES = {
    "text/plain",
    "text/csv",
    "application/json",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
}
SANDBOX = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
BLOCK_SIZE = 1024 * 1024


class _Slice:
    """`length` bytes of a file from where it stands, read in blocks."""

    def __init__(self, file, length: int):
        self.file = file
        self.left = length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.file.read(size) if size else b""
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.file.close()


def content_type(path: str) -> str:
    guessed, encoding = mimetypes.guess_type(posixpath.basename(path), strict=False)
    if guessed is None or encoding is not None:
        return "application/octet-stream"
    return guessed


def etag(stored: StoredArtifact) -> str:
    moment = int(stored.modified.timestamp() * 1_000_000) if stored.modified else 0
    return f'"{stored.size:x}-{moment:x}"'


def byte_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """The (first, last) bytes that a `Range` header asks for; None for a header to ignore (not one byte range), False
    for a range outside the file."""
    match = _RANGE.match(header.strip())
    if not match or match.groups() == ("", ""):
        return None
    first, last = match.groups()
    if first == "":
        # The last N bytes.
        length = int(last)
        if length == 0:
            return False
        return max(size - length, 0), size - 1
    first = int(first)
    last = min(int(last), size - 1) if last else size - 1
    if first > last or first >= size:
        return False if first >= size else None
    return first, last


def artifact_response(request: HttpRequest, stored: StoredArtifact) -> HttpResponse:
    """The download of `stored` (whose file this closes), whole or the byte range the request asks for."""
    tag = etag(stored)
    kind = content_type(stored.path)
    name = posixpath.basename(stored.path)
    headers = {
        "ETag": tag,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": SANDBOX,
    }
    if request.headers.get("If-None-Match") == tag:
        stored.file.close()
        return HttpResponse(status=304, headers=headers)
    wanted = None
    if "Range" in request.headers and request.headers.get("If-Range", tag) == tag:
        wanted = byte_range(request.headers["Range"], stored.size)
    if wanted is False:
        stored.file.close()
        return HttpResponse(status=416, headers={**headers, "Content-Range": f"bytes */{stored.size}"})
    if wanted:
        first, last = wanted
        stored.file.seek(first)
        body, length, status = _Slice(stored.file, last - first + 1), last - first + 1, 206
        headers["Content-Range"] = f"bytes {first}-{last}/{stored.size}"
    else:
        body, length, status = _Slice(stored.file, stored.size), stored.size, 200
    response = FileResponse(
        body,
        status=status,
        content_type=kind,
        as_attachment=kind not in INLINE_TYPES,
        filename=name,
        headers=headers,
    )
    response.block_size = BLOCK_SIZE
    response["Content-Length"] = str(length)
    return response
