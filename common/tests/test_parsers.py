import io

import pytest
from rest_framework.exceptions import ParseError

from common.parsers import JSONParser


def parse(text: str):
    return JSONParser().parse(io.BytesIO(text.encode()), "application/json", {"encoding": "utf-8"})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 9223372036854775807}', {"a": 9223372036854775807}),
        ('{"a": -9223372036854775808}', {"a": -9223372036854775808}),
        ('{"a": 1.5e308, "b": -0.0, "c": 1E2}', {"a": 1.5e308, "b": -0.0, "c": 100.0}),
        ('{"id": "run-1234567890123456789012"}', {"id": "run-1234567890123456789012"}),
        ('{"s": "\\ud83d\\ude00 \\u00e9"}', {"s": "\U0001f600 \u00e9"}),
        (
            '[{"key": "loss", "value": 0.25, "step": 3, "timestamp": 1700000000000}]',
            [{"key": "loss", "value": 0.25, "step": 3, "timestamp": 1700000000000}],
        ),
    ],
)
def test_what_json_allows_and_a_column_holds_is_parsed(text, expected):
    parsed = parse(text)

    assert parsed == expected
    assert [type(v) for v in (parsed.values() if isinstance(parsed, dict) else parsed)] == [
        type(v) for v in (expected.values() if isinstance(expected, dict) else expected)
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"a": 9223372036854775808}', "does not fit in 64 bits"),
        ('{"a": 18446744073709551616}', "does not fit in 64 bits"),
        ('{"a": 1e999}', "out of range"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": -Infinity}', "-Infinity is not a JSON number"),
        ('{"a": "\\udc00"}', "unpaired surrogates"),
        ('{"a": "\\u0000"}', "NUL characters"),
        ('{"a": 1,}', "Expecting property name"),
    ],
)
def test_what_no_column_holds_is_a_parse_error_with_the_reason(text, message):
    with pytest.raises(ParseError) as raised:
        parse(text)

    assert message in str(raised.value.detail)
