"""JWT authentication as simplejwt does it, with the account read by a statement prepared once (common.prepared):
building and compiling that one-row query on every request costs more than running it (see docs/performance.md)."""

from django.db import models
from rest_framework_simplejwt import authentication

from accounts.models import MAX_ID, User
from common.prepared import Late, Prepared

USER_BY_ID = Prepared(lambda: User.objects.filter(pk=Late("id", models.BigIntegerField())))


class _UsersById:
    """What simplejwt's get_user() asks of the user model, `objects.get(id=...)` and `DoesNotExist`, answered by
    USER_BY_ID; simplejwt then makes its own checks (active account, password unchanged) on what it returns."""

    DoesNotExist = User.DoesNotExist

    @property
    def objects(self):
        return self

    def get(self, *, id):  # noqa: A002 (simplejwt names the lookup by USER_ID_FIELD, "id")
        # The claim is the id as a string (simplejwt writes it so), read as the ORM would read it.
        try:
            pk = int(id)
        except (TypeError, ValueError):
            pk = 0
        found = USER_BY_ID.instances({"id": pk}) if 0 < pk <= MAX_ID else []
        if not found:
            raise User.DoesNotExist
        return found[0]


class JWTAuthentication(authentication.JWTAuthentication):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.user_model = _UsersById()
