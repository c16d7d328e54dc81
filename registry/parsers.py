from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _find_unstorable_string(data) -> bool:
    """Tell whether any key or string in parsed JSON holds a NUL or an unpaired surrogate.

    Neither can be stored (PostgreSQL rejects both in text and jsonb) nor printed as UTF-8, so they are refused at the
    door, once for every endpoint, instead of failing deep inside a save.
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


class JSONParser(parsers.JSONParser):
    """REST framework's JSON parser, also refusing pathological nesting and unstorable strings with a 400."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
        if _find_unstorable_string(data):
            raise ParseError("JSON parse error - strings may not contain NUL characters or unpaired surrogates.")
        return data
