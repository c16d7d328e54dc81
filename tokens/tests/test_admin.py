import pytest
from django.urls import reverse
from rest_framework import status

from tokens.models import PersonalAccessToken
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:tokens_personalaccesstoken_changelist")
SECRET = "reg_pat_adminvisible" + "q" * 31


@pytest.fixture
def token(user):
    return PersonalAccessTokenFactory(user=user, name="nightly training", secret=SECRET)


def test_changelist_shows_tokens_by_user_without_secret_or_digest(admin_client, token, other_user):
    PersonalAccessTokenFactory(user=other_user, name="theirs")

    response = admin_client.get(CHANGELIST_URL)

    assert response.status_code == status.HTTP_200_OK
    assert [(row.user.username, row.name) for row in response.context["cl"].result_list] == sorted(
        [(token.user.username, "nightly training"), (other_user.username, "theirs")]
    )
    content = response.content.decode()
    assert "reg_pat_adminvis" in content
    assert SECRET not in content and token.digest not in content


@pytest.mark.parametrize("query", ["nightly", "reg_pat_adminvis", "adminvis"])
def test_search_by_name_and_prefix(admin_client, token, other_user, query):
    PersonalAccessTokenFactory(user=other_user, name="theirs")

    response = admin_client.get(CHANGELIST_URL, {"q": query})

    assert list(response.context["cl"].result_list) == [token]


def test_change_page_shows_neither_secret_nor_digest(admin_client, token):
    response = admin_client.get(reverse("admin:tokens_personalaccesstoken_change", args=[token.pk]))

    assert response.status_code == status.HTTP_200_OK
    content = response.content.decode()
    assert "nightly training" in content
    assert token.digest not in content and SECRET not in content and "digest" not in content


def test_tokens_are_not_added_in_the_admin(admin_client):
    assert admin_client.get(reverse("admin:tokens_personalaccesstoken_add")).status_code == 403


def test_revoke_action_deletes_the_selected_tokens(admin_client, token, user):
    kept = PersonalAccessTokenFactory(user=user, name="kept")

    response = admin_client.post(CHANGELIST_URL, {"action": "revoke", "_selected_action": [token.pk]}, follow=True)

    assert response.status_code == status.HTTP_200_OK
    assert list(PersonalAccessToken.objects.all()) == [kept]
    assert "Revoked 1 token(s)." in response.content.decode()


def test_revoked_in_the_admin_stops_working(admin_client, token, api_client):
    admin_client.post(CHANGELIST_URL, {"action": "revoke", "_selected_action": [token.pk]})

    response = api_client.get("/users/me", HTTP_AUTHORIZATION=f"Bearer {SECRET}")

    assert response.status_code == status.HTTP_401_UNAUTHORIZED
