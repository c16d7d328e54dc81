"""The tokens page: personal access tokens made through tokens' services, the secret shown once."""

import datetime

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tokens.models import PersonalAccessToken, token_digest
from tokens.tests.factories import PersonalAccessTokenFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize(("who", "expected"), [("anonymous", 302), ("signed in", 200)])
def test_tokens_page_by_caller(who, expected, user):
    client = signed_in(user) if who == "signed in" else Client()
    response = client.get(reverse("ui:tokens"))
    assert response.status_code == expected


def test_creating_a_token_shows_its_secret_once_with_the_two_lines_for_mlflow(
    settings, user, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://registry.example.com"
    client = signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ui:tokens"), {"name": "nightly", "scope": "read", "expires_in_days": "30"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    token = PersonalAccessToken.objects.get(user=user)
    assert (token.name, token.scope) == ("nightly", "read")
    assert token.expires_at - token.created_at == datetime.timedelta(days=30)
    page = response.content.decode()
    secret = page.split('data-testid="token-secret">')[1].split("</pre>")[0]
    assert secret.startswith("reg_pat_")
    assert token_digest(secret) == token.digest
    assert (
        '<pre class="secret" data-testid="mlflow-lines">export MLFLOW_TRACKING_URI=https://registry.example.com\n'
        f"export MLFLOW_TRACKING_TOKEN={secret}</pre>"
    ) in page
    assert [message.subject for message in mail.outbox] == ["A personal access token was created: nightly"]
    # Never again: the list shows the prefix only.
    later = client.get(reverse("ui:tokens")).content.decode()
    assert secret not in later
    assert f"<code>{token.token_prefix}…</code>" in later


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scope": "write", "expires_in_days": "30"}, "This field is required."),
        ({"name": "x", "scope": "admin", "expires_in_days": "30"}, "Select a valid choice."),
        ({"name": "x", "scope": "write", "expires_in_days": "366"}, "less than or equal to 365"),
        ({"name": "x", "scope": "write", "expires_in_days": "0"}, "greater than or equal to 1"),
        ({"name": "Taken", "scope": "write", "expires_in_days": "30"}, "You already have a token with this name."),
    ],
)
def test_a_refused_token_says_why_and_makes_nothing(user, data, message):
    PersonalAccessTokenFactory(user=user, name="taken")
    response = signed_in(user).post(reverse("ui:tokens"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert PersonalAccessToken.objects.filter(user=user).count() == 1


def test_token_creation_is_throttled(settings, user):
    settings.AUTH_THROTTLE_RATE = "2/min"
    client = signed_in(user)
    answers = [
        client.post(reverse("ui:tokens"), {"name": f"t{n}", "scope": "write", "expires_in_days": "1"}).status_code
        for n in range(3)
    ]
    assert answers == [201, 201, 429]
    assert PersonalAccessToken.objects.filter(user=user).count() == 2


def test_the_list_shows_only_the_callers_tokens_with_last_use(user, other_user):
    used = timezone.now().replace(year=2030, month=5, day=6, hour=7, minute=8)
    PersonalAccessTokenFactory(user=user, name="mine", last_used_at=used)
    PersonalAccessTokenFactory(user=user, name="unused")
    PersonalAccessTokenFactory(user=other_user, name="theirs")
    page = signed_in(user).get(reverse("ui:tokens")).content.decode()
    assert '<td class="name">mine</td>' in page
    assert "2030-05-06 07:08" in page
    assert "<td>never</td>" in page
    assert "theirs" not in page


@pytest.mark.parametrize(
    ("who", "expected", "left"), [("anonymous", 302, 1), ("owner", 302, 0), ("other user", 404, 1)]
)
def test_revoking_a_token_by_caller(who, expected, left, user, other_user):
    token = PersonalAccessTokenFactory(user=user, name="mine")
    client = {"anonymous": Client(), "owner": signed_in(user), "other user": signed_in(other_user)}[who]
    response = client.post(reverse("ui:token-revoke", args=[token.pk]))
    assert response.status_code == expected
    assert PersonalAccessToken.objects.filter(pk=token.pk).count() == left


def test_each_token_has_a_revoke_button_named_for_it(user):
    token = PersonalAccessTokenFactory(user=user, name="laptop")
    page = signed_in(user).get(reverse("ui:tokens")).content.decode()
    assert f'<form method="post" action="/ui/tokens/{token.pk}/revoke">' in page
    assert '<button type="submit" class="danger" aria-label="Revoke laptop">Revoke</button>' in page


def test_revoking_takes_a_post_with_the_csrf_token(user):
    token = PersonalAccessTokenFactory(user=user)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    assert client.post(reverse("ui:token-revoke", args=[token.pk])).status_code == 403
    assert client.get(reverse("ui:token-revoke", args=[token.pk])).status_code == 405
    assert PersonalAccessToken.objects.filter(pk=token.pk).exists()


def test_a_hostile_token_name_is_escaped(user):
    PersonalAccessTokenFactory(user=user, name="<script>alert(1)</script>")
    page = signed_in(user).get(reverse("ui:tokens")).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
