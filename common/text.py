"""Rules for text that people type: how two names are compared, and which characters a name may hold."""

import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible

# Characters that end or break a line, or steer a terminal: C0 and C1 controls (category Cc) and the Unicode line and
# paragraph separators. A name holding one could forge a line in a mail, a log or a command's output.
_LINE_BREAKING_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def fold(text: str) -> str:
    """The form in which two names are the same: Unicode NFKC, case-folded, and NFKC again (case folding can
    un-normalize). "Ärger" and "ärger", "Ǆx" and "ǆx", "Straße" and "STRASSE" fold alike, on every database."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _breaking_characters(text: str, allowed: frozenset[str]) -> list[str]:
    return sorted(
        {
            f"U+{ord(char):04X}"
            for char in text
            if char not in allowed and unicodedata.category(char) in _LINE_BREAKING_CATEGORIES
        }
    )


@deconstructible
class NoControlCharactersValidator(RegexValidator):
    """Refuse control characters and line separators; a multi-line field still takes newlines and tabs.

    A RegexValidator, so that the OpenAPI schema states the rule as the field's `pattern`.
    """

    def __init__(self, multiline: bool = False):
        self.multiline = multiline
        # Category Cc is exactly U+0000-U+001F and U+007F-U+009F.
        excluded = r"\x00-\x08\x0b\x0c\x0e-\x1f" if multiline else r"\x00-\x1f"
        super().__init__(regex=rf"^[^{excluded}\x7f-\x9f\u2028\u2029]*\Z", code="control_characters")

    def __call__(self, value) -> None:
        if not isinstance(value, str):
            return
        found = _breaking_characters(value, frozenset("\n\r\t") if self.multiline else frozenset())
        if found:
            kept = " other than newlines and tabs" if self.multiline else ""
            raise ValidationError(
                f"Control characters{kept} are not allowed; found {', '.join(found)}.", code="control_characters"
            )

    def deconstruct(self):
        return ("common.text.NoControlCharactersValidator", (), {"multiline": True} if self.multiline else {})

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator) and other.multiline == self.multiline


single_line = NoControlCharactersValidator()
multi_line = NoControlCharactersValidator(multiline=True)


def one_line(text: str) -> str:
    """`text` safe to print on one line of a mail or a log: each control character or separator shown escaped."""
    breaking = _LINE_BREAKING_CATEGORIES
    return "".join(
        char.encode("unicode_escape").decode("ascii") if unicodedata.category(char) in breaking else char
        for char in text
    )
