import codecs
import json
import math

import orjson
from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from common.numbers import INT64_MAX

UNSTORABLE_TEXT = "strings may not contain NUL characters or unpaired surrogates"


def holds_unstorable_text(data) -> bool:
    """Tell whether any key or string in parsed data (JSON, or a query string's or form's fields as a dict of lists)
    holds a NUL or an unpaired surrogate.

    Neither can be stored (PostgreSQL rejects both in text and jsonb) nor printed as UTF-8, so they are refused at the
    door, once for every endpoint, instead of failing deep inside a save: JSON bodies here (JSONParser), query strings
    and form bodies in common.middleware.UnstorableTextMiddleware.
    """
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
    return False


INT64_LIMIT = INT64_MAX + 1


def _parse_int(text: str) -> int:
    value = int(text)
    if not -INT64_LIMIT <= value < INT64_LIMIT:
        raise ValueError(f"the integer {text[:30]}... does not fit in 64 bits")
    return value


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:30]} is out of range")
    return value


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _may_hold_a_long_integer(data) -> bool:
    """Whether orjson's parse may hold an integer literal beyond 64 bits: it reads those up to 2**64 as integers and
    larger ones as floats, so any number of that size sends the body to the standard library's checked parse."""
    stack = [data]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif (kind is int or kind is float) and not -INT64_LIMIT < item < INT64_LIMIT:
            return True
    return False


def _loads(text: str):
    """The standard library's parse with the checks above, in a Python call per number."""
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant)


class JSONParser(parsers.JSONParser):
    """REST framework's JSON parser, refusing with a 400 what no database column can hold.

    That is: integers beyond 64 bits, numbers that overflow to infinity, NaN and Infinity, nesting deep enough to
    exhaust the parser, and strings with a NUL or an unpaired surrogate.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
            # orjson first, which with the walk for long integers takes a third of the time of the checked parse
            # on a batch of 1000 metrics. It refuses NaN, Infinity, numbers that overflow to infinity and deep nesting
            # as the checks above do; whatever it refuses is parsed again by the standard library, whose message the
            # client gets.
            try:
                data = orjson.loads(text)
                if _may_hold_a_long_integer(data):
                    data = _loads(text)
            except orjson.JSONDecodeError:
                data = _loads(text)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        # Only a \u escape puts a NUL or a lone surrogate into parsed JSON (raw ones are invalid JSON or invalid
        # UTF-8), so a body without one needs no walk through every string: large metric batches have none.
        if "\\u" in text and holds_unstorable_text(data):
            raise ParseError(f"JSON parse error - {UNSTORABLE_TEXT}.")
        return data
