"""The account pages: changing the password and the e-mail, confirming a new e-mail, and resetting a forgotten
password, through accounts' services and throttled like the API's doors."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-new-long-passphrase-42"


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Run a request with the mail it queues sent, as the worker does once the request's transaction commits."""

    def send(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return send


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def link_in_mail(to: str) -> str:
    """The path and query of the link in the last mail to `to`."""
    body = [message for message in mail.outbox if message.to == [to]][-1].body
    return re.search(r"^http://testserver(/ui/\S+)$", body, re.M).group(1)


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"
    settings.PASSWORD_RESET_URL = "http://testserver/ui/password/reset"
    settings.EMAIL_CONFIRM_URL = "http://testserver/ui/email/confirm"


# Who may open each page: the account page needs a session; the pages a mail links to and the forgotten-password page
# are open to anyone (their forms carry the proof).
PAGES = [
    ("ui:account", {"anonymous": 302, "signed in": 200}),
    ("ui:password-forgot", {"anonymous": 200, "signed in": 200}),
    ("ui:password-reset", {"anonymous": 200, "signed in": 200}),
    ("ui:email-confirm", {"anonymous": 200, "signed in": 200}),
]


@pytest.mark.parametrize(("page", "expected"), PAGES)
@pytest.mark.parametrize("who", ["anonymous", "signed in"])
def test_account_pages_by_caller(page, expected, who, user):
    client = signed_in(user) if who == "signed in" else Client()
    response = client.get(reverse(page))
    assert response.status_code == expected[who]
    if response.status_code == 302:
        assert response["Location"] == "/ui/signin?next=/ui/account"


def test_the_account_page_shows_the_username_email_and_pending_email(user):
    user.pending_email = "next@example.com"
    user.save()
    page = signed_in(user).get(reverse("ui:account")).content.decode()
    assert f'data-testid="username">{user.username}</dd>' in page
    assert f'data-testid="email">{user.email}</dd>' in page
    assert 'data-testid="pending-email">next@example.com</dd>' in page


def test_the_account_pages_forms_label_each_field_once(user):
    page = signed_in(user).get(reverse("ui:account")).content.decode()
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))
    for field in ["password_current_password", "password_new_password", "email_email", "email_current_password"]:
        assert page.count(f'for="{field}"') == 1
        assert page.count(f'id="{field}"') == 1
    assert page.count('autocomplete="current-password"') == 2
    assert page.count('autocomplete="new-password"') == 2


def test_changing_the_password_keeps_this_session_and_ends_the_others(user):
    here, elsewhere = signed_in(user), signed_in(user)
    response = here.post(
        reverse("ui:account-password"),
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == "/ui/account"
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert "You are signed out everywhere else." in here.get(reverse("ui:account")).content.decode()
    assert here.get(reverse("ui:projects")).status_code == 200
    assert elsewhere.get(reverse("ui:projects")).status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "wrong", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
            "The current password is not correct.",
        ),
        (
            {"current_password": PASSWORD, "new_password": "short", "repeat_password": "short"},
            "This password is too short. It must contain at least 8 characters.",
        ),
        (
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD + "x"},
            "The two passwords differ.",
        ),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(user, data, message):
    response = signed_in(user).post(reverse("ui:account-password"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    # No password is sent back to the browser.
    assert PASSWORD not in response.content.decode()


def test_failed_password_changes_are_throttled_with_the_other_password_doors(settings, user):
    settings.AUTH_THROTTLE_RATE = "3/min"
    client = signed_in(user)
    wrong = {"current_password": "wrong", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    answers = [client.post(reverse("ui:account-password"), wrong).status_code for _ in range(4)]
    assert answers == [400, 400, 400, 429]
    right = {**wrong, "current_password": PASSWORD}
    refused = client.post(reverse("ui:account-password"), right)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_the_forms_need_the_csrf_token(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    data = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    assert client.post(reverse("ui:account-password"), data).status_code == 403
    email = {"current_password": PASSWORD, "email": "n@x.org"}
    assert client.post(reverse("ui:account-email"), email).status_code == 403
    assert client.post(reverse("ui:password-forgot"), {"email": user.email}).status_code == 403
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_changing_the_email_mails_a_link_whose_page_confirms_it(sent, user):
    old = user.email
    client = signed_in(user)
    data = {"current_password": PASSWORD, "email": "new@example.com"}
    response = sent(client.post, reverse("ui:account-email"), data)
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).email == old
    link = link_in_mail("new@example.com")
    assert link.startswith("/ui/email/confirm?uid=")
    assert any(message.to == [old] for message in mail.outbox)

    # Opening the link changes nothing (mail scanners open links); its page posts the uid and token.
    anonymous = Client(enforce_csrf_checks=True)
    page = anonymous.get(link)
    assert User.objects.get(pk=user.pk).email == old
    uid, token = re.search(r"uid=([^&]+)&token=(\S+)", link).groups()
    assert f'name="uid" value="{uid}"' in page.content.decode()
    assert f'name="token" value="{token}"' in page.content.decode()
    csrf = page.cookies["csrftoken"].value
    confirmed = anonymous.post(reverse("ui:email-confirm"), {"uid": uid, "token": token, "csrfmiddlewaretoken": csrf})
    assert confirmed.status_code == 302
    assert User.objects.get(pk=user.pk).email == "new@example.com"
    # The link works once.
    again = Client().post(reverse("ui:email-confirm"), {"uid": uid, "token": token})
    assert again.status_code == 400
    assert "This confirmation link is invalid, used or expired." in again.content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"current_password": "wrong", "email": "new@example.com"}, "The current password is not correct."),
        ({"current_password": PASSWORD, "email": "taken@example.com"}, "A user with that email already exists."),
        ({"current_password": PASSWORD, "email": "not an address"}, "Enter a valid email address."),
    ],
)
def test_a_refused_email_change_says_why_and_mails_nothing(sent, user, data, message):
    UserFactory(email="taken@example.com")
    mail.outbox.clear()
    response = sent(signed_in(user).post, reverse("ui:account-email"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert User.objects.get(pk=user.pk).pending_email == ""
    assert mail.outbox == []


def test_a_forged_confirmation_is_refused(user):
    response = Client().post(reverse("ui:email-confirm"), {"uid": "MQ", "token": "forged"})
    assert response.status_code == 400
    assert "This confirmation link is invalid, used or expired." in response.content.decode()


def test_forgot_password_answers_the_same_whether_or_not_the_email_has_an_account(sent, user):
    answers = []
    for email in [user.email, "nobody@example.com"]:
        client = Client()
        response = sent(client.post, reverse("ui:password-forgot"), {"email": email})
        page = client.get(response["Location"])
        answers.append((response.status_code, response["Location"], page.content.decode().count("is on its way")))
    assert answers == [(302, "/ui/password/forgot", 1), (302, "/ui/password/forgot", 1)]
    assert [message.to for message in mail.outbox] == [[user.email]]


def test_the_reset_link_opens_a_page_that_sets_the_new_password_once(sent, user):
    # Signed in before the reset is asked for: a sign-in afterwards would void the link (Django's token generator).
    signed_elsewhere = signed_in(user)
    sent(Client().post, reverse("ui:password-forgot"), {"email": user.email})
    link = link_in_mail(user.email)
    assert link.startswith("/ui/password/reset?uid=")
    client = Client(enforce_csrf_checks=True)
    page = client.get(link)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    uid, token = re.search(r"uid=([^&]+)&token=(\S+)", link).groups()
    data = {"uid": uid, "token": token, "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    response = client.post(
        reverse("ui:password-reset"), {**data, "csrfmiddlewaretoken": page.cookies["csrftoken"].value}
    )
    assert response.status_code == 302
    assert response["Location"] == "/ui/signin"
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    # Every session made with the old password ends.
    assert signed_elsewhere.get(reverse("ui:projects")).status_code == 302
    again = Client().post(reverse("ui:password-reset"), data)
    assert again.status_code == 400
    assert "This password reset link is invalid, used or expired." in again.content.decode()
    signin = Client().post(reverse("ui:signin"), {"username": user.username, "password": NEW_PASSWORD})
    assert signin.status_code == 302
    assert SESSION_KEY in signin.wsgi_request.session


def test_a_reset_with_a_weak_password_or_a_forged_token_changes_nothing(sent, user):
    sent(Client().post, reverse("ui:password-forgot"), {"email": user.email})
    uid, token = re.search(r"uid=([^&]+)&token=(\S+)", link_in_mail(user.email)).groups()
    weak = Client().post(
        reverse("ui:password-reset"), {"uid": uid, "token": token, "new_password": "123", "repeat_password": "123"}
    )
    assert weak.status_code == 400
    assert "This password is too short." in weak.content.decode()
    forged = Client().post(
        reverse("ui:password-reset"),
        {"uid": uid, "token": "forged", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD},
    )
    assert forged.status_code == 400
    assert "This password reset link is invalid, used or expired." in forged.content.decode()
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_reset_requests_are_throttled_per_address(settings, user):
    settings.AUTH_THROTTLE_RATE = "2/min"
    client = Client()
    answers = [client.post(reverse("ui:password-forgot"), {"email": f"n{n}@example.com"}).status_code for n in range(3)]
    assert answers == [302, 302, 429]


def test_failed_resets_are_throttled(settings, user):
    settings.AUTH_THROTTLE_RATE = "2/min"
    client = Client()
    data = {"uid": "MQ", "token": "forged", "new_password": NEW_PASSWORD, "repeat_password": NEW_PASSWORD}
    answers = [client.post(reverse("ui:password-reset"), data).status_code for _ in range(3)]
    assert answers == [400, 400, 429]


def test_the_sign_in_page_links_to_the_forgotten_password_page(client):
    assert 'href="/ui/password/forgot"' in client.get(reverse("ui:signin")).content.decode()
