import pytest
from django.core.exceptions import ValidationError

from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db


def test_names_are_unique_per_user_whatever_the_case(user):
    PersonalAccessTokenFactory(user=user, name="CI")
    clash = PersonalAccessTokenFactory.build(user=user, name="ci", secret="reg_pat_other")

    with pytest.raises(ValidationError) as caught:
        clash.full_clean()

    assert caught.value.message_dict == {"name": ["You already have a token with this name."]}


def test_two_users_may_use_the_same_name(user, other_user):
    PersonalAccessTokenFactory(user=user, name="ci")
    PersonalAccessTokenFactory(user=other_user, name="ci").full_clean()

    assert PersonalAccessToken.objects.filter(name="ci").count() == 2


def test_visible_to_is_the_owner_only(user, other_user):
    mine = PersonalAccessTokenFactory(user=user)
    PersonalAccessTokenFactory(user=other_user)

    assert list(PersonalAccessToken.objects.visible_to(user)) == [mine]


def test_str_shows_the_name_and_prefix_never_more(user):
    token = PersonalAccessTokenFactory(user=user, name="ci", secret="reg_pat_abcdefgh" + "x" * 35)

    assert str(token) == "ci (reg_pat_abcdefgh…)"
