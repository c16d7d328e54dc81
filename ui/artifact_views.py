"""A run's artifacts in the browser: one folder at a time, and one file at a time with a preview.

Files are read through the artifacts app's services (which check the caller's role) and shown escaped: an image by
the download route (which serves only inert types inline), any text as text, never as HTML.
"""

import csv
import json
import posixpath
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from artifacts.downloads import content_type
from artifacts.services import ArtifactNotFound, StoredArtifact, artifact_list, artifact_open
from ui.views import _run, signed_in_page

# A preview reads at most this much of a file: enough for a report or a table's first rows, whatever the file's size.
PREVIEW_BYTES = 64 * 1024
# Rows of a CSV file shown, its header included.
CSV_ROWS = 21
# Images that a browser shows without running anything (the download route sends them inline).
IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _download(run, path: str) -> str:
    return reverse("experiment-artifact-detail", kwargs={"experiment_pk": run.pk, "path": path})


def _refused(request, run, path: str, exc: ValidationError):
    """The artifacts page saying why `path` cannot be read, with a link back to the run's files."""
    return render(request, "ui/artifacts.html", {"run": run, "refusal": exc.messages[0], "path": path}, status=400)


def _crumbs(run, path: str) -> tuple[str, list[tuple[str, str]]]:
    """The listing's address, and a link to each folder on the way to `path`."""
    here = reverse("ui:run-artifacts", args=[run.run_uuid])
    crumbs, walked = [], []
    for part in path.split("/") if path else []:
        walked.append(part)
        crumbs.append((part, f"{here}?{urlencode({'path': '/'.join(walked)})}"))
    return here, crumbs


@signed_in_page
def run_artifacts(request, run_id: str):
    """The files and folders in one folder of a run's artifacts (`?path=`, the root by default); a file links to its
    preview and to its download, which the REST API serves (anything a browser could run as an attachment)."""
    run = _run(request, run_id, shown=False)
    path = request.GET.get("path", "")
    try:
        entries = artifact_list(actor=request.user, experiment=run, path=path)
    except ValidationError as exc:
        return _refused(request, run, path, exc)
    here, crumbs = _crumbs(run, path)
    preview = reverse("ui:run-artifact", args=[run.run_uuid])
    rows = [
        {
            "name": entry.path.rsplit("/", 1)[-1],
            "is_dir": entry.is_dir,
            "size": entry.size,
            "href": f"{here if entry.is_dir else preview}?{urlencode({'path': entry.path})}",
            "download": None if entry.is_dir else _download(run, entry.path),
        }
        for entry in entries
    ]
    context = {"run": run, "path": path, "crumbs": crumbs, "rows": rows, "here": here}
    return render(request, "ui/artifacts.html", context)


def _text(head: bytes, whole: bool) -> str | None:
    """`head` as UTF-8 text, or None; a head cut from a longer file may end inside a character, whose bytes go."""
    if b"\0" in head:
        return None
    for cut in range(1 if whole else 4):
        try:
            return head[: len(head) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return None


def preview_of(stored: StoredArtifact) -> dict:
    """What the page shows of the open file `stored`: its `kind` (`image`, `json`, `csv`, `text` or `none`) and the
    content for that kind, from its first PREVIEW_BYTES (an image is shown from its download, and not read here)."""
    kind = content_type(stored.path)
    if kind in IMAGE_TYPES:
        return {"kind": "image"}
    head = stored.file.read(PREVIEW_BYTES)
    whole = len(head) >= stored.size
    text = _text(head, whole)
    if text is None:
        return {"kind": "none"}
    if kind == "application/json" and whole:
        try:
            return {"kind": "json", "text": json.dumps(json.loads(text), indent=2, ensure_ascii=False)}
        except ValueError:
            pass  # Shown as the text it is.
    if kind == "text/csv":
        lines = text.splitlines() if whole else text.splitlines()[:-1]
        rows = list(csv.reader(lines[:CSV_ROWS]))
        if rows:
            return {"kind": "csv", "header": rows[0], "rows": rows[1:], "more": not whole or len(lines) > CSV_ROWS}
    return {"kind": "text", "text": text, "cut": not whole}


@signed_in_page
def run_artifact(request, run_id: str):
    """One file of a run (`?path=`): an image shown, JSON indented, a CSV file's first rows as a table, other text as
    it is (its first 64 KiB), and a link to download it whole."""
    run = _run(request, run_id, shown=False)
    path = request.GET.get("path", "")
    try:
        stored = artifact_open(actor=request.user, experiment=run, path=path)
    except ValidationError as exc:
        return _refused(request, run, path, exc)
    except ArtifactNotFound as exc:
        raise Http404("No such file.") from exc
    try:
        preview = preview_of(stored)
    finally:
        stored.file.close()
    folder = posixpath.dirname(stored.path)
    here, crumbs = _crumbs(run, folder)
    context = {
        "run": run,
        "name": posixpath.basename(stored.path),
        "size": stored.size,
        "here": here,
        "crumbs": crumbs,
        "download": _download(run, stored.path),
        "preview": preview,
        "preview_bytes": PREVIEW_BYTES,
    }
    return render(request, "ui/artifact.html", context)
