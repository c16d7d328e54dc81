import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.deconstruct import deconstructible


@deconstructible
class UsernameValidator(RegexValidator):
    """Letters, digits and `.`, `_`, `+`, `-`; never `@` and never digits alone.

    A string that names an account is read one way only (see `UserQuerySet.identified_by`): with an `@` it is an
    e-mail, otherwise a username, and never an id. A username shaped like an e-mail or an id would let one account be
    reached through another's address or number.
    """

    # The lookahead states "not digits alone" in the pattern the OpenAPI schema shows; NFKC digits are checked below.
    regex = r"^(?!\d+\Z)[\w.+-]+\Z"
    message = "Enter a username of letters, digits and . _ + - only (no @)."
    flags = 0

    def __call__(self, value):
        if isinstance(value, str) and unicodedata.normalize("NFKC", value).isdigit():
            raise ValidationError("A username cannot be digits alone.", code="numeric_username")
        super().__call__(value)


validate_username = UsernameValidator()
