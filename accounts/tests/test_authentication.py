"""The account a JWT names is read by a prepared statement; what simplejwt asks of it answers as the ORM would."""

import pytest

from accounts.authentication import JWTAuthentication
from accounts.models import User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("claim", ["user", "user as int"])
def test_the_user_a_token_names_is_found(user, claim):
    users = JWTAuthentication().user_model
    found = users.objects.get(id=str(user.pk) if claim == "user" else user.pk)
    assert (found.pk, found.username, found.password) == (user.pk, user.username, user.password)


@pytest.mark.parametrize("claim", ["", "abc", "0", "-1", str(2**63), None, "999999"])
def test_a_claim_naming_no_user_is_does_not_exist(user, claim):
    with pytest.raises(User.DoesNotExist):
        JWTAuthentication().user_model.objects.get(id=claim)
