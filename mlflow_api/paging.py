"""MLflow's paging (page tokens) and view types (which lifecycle stages a search reads), for every search of the
MLflow API."""

import base64
import binascii
import json

from django.db.models import QuerySet

from common.numbers import INT64_MAX
from mlflow_api.errors import MlflowError
from projects.models import LifecycleStage

VIEW_TYPES = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def decode_page_token(token) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise MlflowError("Invalid page token.") from exc
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise MlflowError("Invalid page token.")
    return offset


def page(queryset: QuerySet, *, max_results: int, page_token, extra=None) -> tuple[list, str | None]:
    """A page of `queryset`'s rows and the token of the next; `extra`, a (row, rank) pair, places one row that is not
    in the database among them, after the first `rank()` rows."""
    offset = decode_page_token(page_token)
    # The page's end, one row past it included, must be a 64-bit integer, as the databases read LIMIT and OFFSET.
    end = offset + max_results + 1
    if end > INT64_MAX:
        raise MlflowError("Invalid page token.")
    rank = extra[1]() if extra is not None else end
    if rank >= end:
        rows = list(queryset[offset:end])
    elif rank < offset:
        rows = list(queryset[offset - 1 : end - 1])
    else:
        rows = list(queryset[offset : end - 1])
        rows.insert(rank - offset, extra[0])
    if len(rows) > max_results:
        return rows[:max_results], encode_page_token(offset + max_results)
    return rows, None


def view_type_stages(view_type) -> list[str] | None:
    """The lifecycle stages MLflow's view type reads (by name or the protobuf enum's number); None: all of them."""
    if view_type in (None, ""):
        view_type = "ACTIVE_ONLY"
    number = VIEW_TYPES.get(view_type, view_type)
    if number == 1:
        return [LifecycleStage.ACTIVE]
    if number == 2:
        return [LifecycleStage.DELETED]
    if number == 3:
        return None
    raise MlflowError(f"Invalid view type {view_type!r}: ACTIVE_ONLY, DELETED_ONLY or ALL.")
