import pytest
from django.core.exceptions import ValidationError

from artifacts.paths import artifact_path_clean

pytestmark = pytest.mark.django_db

LONG_NAME = "n" * 255

# (path, accepted): the path rule, written out.
PATHS = [
    ("model.pkl", True),
    ("plots/confusion_matrix.png", True),
    ("a/b/c/d.txt", True),
    ("name with spaces.txt", True),
    ("ünïcödé/日本.txt", True),
    (".hidden", True),
    ("..dots", True),
    ("file..txt", True),
    (LONG_NAME, True),
    ("", False),
    ("/etc/passwd", False),
    ("../other-run/x", False),
    ("a/../../x", False),
    ("a/..", False),
    ("./a", False),
    ("a/./b", False),
    ("a//b", False),
    ("a/", False),
    ("a\\b", False),
    ("..\\x", False),
    ("a\x00b", False),
    ("a\nb", False),
    ("a\x7fb", False),
    ("\ud800", False),
    (LONG_NAME + "n", False),
    ("é" * 128, False),
    ("/".join(["d" * 99] * 10), False),
]


@pytest.mark.parametrize(("path", "accepted"), PATHS, ids=[repr(path)[:40] for path, _ in PATHS])
def test_the_path_rule(path, accepted):
    if accepted:
        assert artifact_path_clean(path) == path
    else:
        with pytest.raises(ValidationError):
            artifact_path_clean(path)


def test_the_empty_path_names_the_root_where_a_listing_allows_it():
    assert artifact_path_clean("", allow_root=True) == ""


def test_a_path_that_is_not_text_is_refused():
    with pytest.raises(ValidationError):
        artifact_path_clean(b"a.txt")
