import logging

import pytest

from common.logs import ServerErrorsOnly


def _record(**extra) -> logging.LogRecord:
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "answer", (), None)
    record.__dict__.update(extra)
    return record


@pytest.mark.parametrize(
    ("extra", "kept"),
    [
        ({"status_code": 400}, False),
        ({"status_code": 404}, False),
        ({"status_code": 499}, False),
        ({"status_code": 500}, True),
        ({"status_code": 503}, True),
        ({}, True),
    ],
)
def test_only_server_errors_reach_the_operator(extra, kept):
    assert ServerErrorsOnly().filter(_record(**extra)) is kept
