import datetime

import pytest
from django.core import mail
from django.core.mail import send_mail as real_send_mail
from django.core.management import CommandError
from django.utils import timezone
from django_q.models import Schedule

from accounts.tests.factories import UserFactory
from projects import services
from projects.models import Project
from projects.tests.factories import ProjectFactory
from registry.tests.support import expired_project, in_days, run_command

NO_MEMBERS = "Reminded 0 member(s) about 0 expiring membership(s)."

pytestmark = pytest.mark.django_db(transaction=True)


def _remind(*args: str) -> str:
    return run_command("send_expiration_reminders", *args)


def _recipients() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def _reminded_for(project: Project) -> datetime.date | None:
    return Project.objects.get(pk=project.pk).reminded_for_date


def test_run_twice_with_projects_expiring_tomorrow_sends_exactly_one_mail_per_owner():
    owners = UserFactory.create_batch(3)
    for owner in owners:
        ProjectFactory.create_batch(2, owner=owner, expiration_date=in_days(1))

    _remind()
    _remind()

    assert _recipients() == sorted(owner.email for owner in owners)


@pytest.mark.parametrize(
    ("offset", "reminded"),
    [(None, False), (-30, True), (-1, True), (0, True), (1, True), (7, True), (8, False), (365, False)],
    ids=["no date", "expired a month ago", "expired yesterday", "today", "tomorrow", "in 7 days", "in 8", "in 365"],
)
def test_who_is_reminded_by_the_expiration_date(user, offset, reminded):
    if offset is not None and offset < 0:
        expired_project(owner=user, days_ago=-offset)
    else:
        ProjectFactory(owner=user, expiration_date=None if offset is None else in_days(offset))
    _remind()
    assert len(mail.outbox) == (1 if reminded else 0)


def test_one_message_per_owner_lists_all_their_due_projects(user, other_user):
    mine = [
        ProjectFactory(owner=user, name="warehouse", expiration_date=in_days(1)),
        ProjectFactory(owner=user, name="lake", expiration_date=in_days(6)),
        expired_project(owner=user, days_ago=3, name="swamp"),
    ]
    ProjectFactory(owner=user, name="far away", expiration_date=in_days(30))
    ProjectFactory(owner=user, name="forever")
    ProjectFactory(owner=other_user, name="theirs", expiration_date=in_days(2))

    _remind()

    assert _recipients() == sorted([user.email, other_user.email])
    (message,) = [message for message in mail.outbox if message.to == [user.email]]
    assert message.subject == "Registry: projects expiring soon"
    for project in mine:
        assert f"- {project.name} " in message.body
    assert "far away" not in message.body
    assert "forever" not in message.body
    assert "theirs" not in message.body


def test_a_second_run_sends_nothing_and_says_so(user):
    project = ProjectFactory(owner=user, expiration_date=in_days(2))
    assert "Reminded 1 owner(s) about 1 project(s)." in _remind()
    assert _reminded_for(project) == in_days(2)

    output = _remind()

    assert len(mail.outbox) == 1
    assert output.splitlines() == ["Reminded 0 owner(s) about 0 project(s).", NO_MEMBERS]


def test_a_new_expiration_date_re_arms_the_reminder(user):
    project = ProjectFactory(owner=user, expiration_date=in_days(2))
    _remind()
    services.project_update(project=project, actor=project.owner, expiration_date=in_days(5))

    _remind()
    _remind()

    assert len(mail.outbox) == 2
    assert in_days(5).isoformat() in mail.outbox[1].body
    assert _reminded_for(project) == in_days(5)


def test_an_already_reminded_project_is_not_repeated_when_another_becomes_due(user):
    ProjectFactory(owner=user, name="first", expiration_date=in_days(1))
    _remind()
    ProjectFactory(owner=user, name="second", expiration_date=in_days(3))

    _remind()

    assert len(mail.outbox) == 2
    assert "second" in mail.outbox[1].body
    assert "first" not in mail.outbox[1].body


def test_a_project_entering_the_window_is_reminded_once_it_does(user, time_machine):
    time_machine.move_to(datetime.datetime(2025, 3, 1, 12, tzinfo=datetime.UTC), tick=False)
    ProjectFactory(owner=user, expiration_date=datetime.date(2025, 3, 20))
    _remind()
    assert mail.outbox == []

    time_machine.move_to(datetime.datetime(2025, 3, 13, 12, tzinfo=datetime.UTC), tick=False)
    _remind()
    assert len(mail.outbox) == 1
    assert "- project" in mail.outbox[0].body
    assert "expires on 2025-03-20" in mail.outbox[0].body

    time_machine.move_to(datetime.datetime(2025, 3, 25, 12, tzinfo=datetime.UTC), tick=False)
    _remind()
    assert len(mail.outbox) == 1


def test_days_widens_or_narrows_the_window(user):
    ProjectFactory(owner=user, name="in 20 days", expiration_date=in_days(20))
    ProjectFactory(owner=user, name="in 3 days", expiration_date=in_days(3))

    assert "about 0 project(s)" in _remind("--days", "2")
    assert "about 2 project(s)" in _remind("--days", "30")
    assert len(mail.outbox) == 1


def test_days_zero_reminds_of_today_and_the_past_only(user):
    ProjectFactory(owner=user, name="today", expiration_date=in_days(0))
    ProjectFactory(owner=user, name="tomorrow", expiration_date=in_days(1))
    _remind("--days=0")
    assert "today" in mail.outbox[0].body
    assert "tomorrow" not in mail.outbox[0].body


@pytest.mark.parametrize("days", ["3000000", "99999999999"])
def test_days_past_the_end_of_the_calendar_reminds_of_every_dated_project(user, days):
    ProjectFactory(owner=user, name="far", expiration_date=datetime.date(9999, 12, 31))
    ProjectFactory(owner=user, name="never")
    assert "about 1 project(s)" in _remind("--days", days)
    assert "far" in mail.outbox[0].body


def test_the_default_window_comes_from_the_setting(user, settings):
    settings.EXPIRATION_REMINDER_DAYS = 2
    ProjectFactory(owner=user, expiration_date=in_days(3))
    _remind()
    assert mail.outbox == []


@pytest.mark.parametrize("days", ["-1", "soon"])
def test_bad_days_is_a_command_error(user, days):
    ProjectFactory(owner=user, expiration_date=in_days(1))
    with pytest.raises(CommandError):
        _remind("--days", days)
    assert mail.outbox == []


def test_dry_run_says_who_would_be_reminded_and_sends_and_records_nothing(user, other_user):
    warehouse = ProjectFactory(owner=user, name="warehouse", expiration_date=in_days(1))
    lake = expired_project(owner=user, days_ago=2, name="lake")
    ProjectFactory(owner=other_user, name="far", expiration_date=in_days(30))

    output = _remind("--dry-run")

    assert mail.outbox == []
    assert _reminded_for(warehouse) is None
    assert _reminded_for(lake) is None
    assert f"{user.email}: lake, warehouse" in output
    assert other_user.email not in output
    assert output.splitlines()[-2:] == [
        "Would remind 1 owner(s) about 2 project(s).",
        "Would remind 0 member(s) about 0 expiring membership(s).",
    ]
    # Nothing was recorded, so the real run still sends.
    _remind()
    assert _recipients() == [user.email]


def test_the_summary_names_each_owner_reminded(user, other_user):
    ProjectFactory(owner=user, name="warehouse", expiration_date=in_days(1))
    ProjectFactory(owner=other_user, name="lake", expiration_date=in_days(1))
    ProjectFactory(owner=other_user, name="sea", expiration_date=in_days(2))

    output = _remind()

    assert output.splitlines() == [
        f"{user.email}: warehouse",
        f"{other_user.email}: lake, sea",
        "Reminded 2 owner(s) about 3 project(s).",
        NO_MEMBERS,
    ]


@pytest.fixture
def failing_address(monkeypatch):
    """Make sending to one address fail, as an SMTP server refusing it would; other addresses go to the outbox."""
    failing = {"address": None}

    def send_mail(*args, recipient_list, **kwargs):
        if failing["address"] in recipient_list:
            raise ConnectionRefusedError("the mail server refused the recipient")
        return real_send_mail(*args, recipient_list=recipient_list, **kwargs)

    monkeypatch.setattr("common.mail.send_mail", send_mail)
    return failing


def test_a_failing_recipient_does_not_stop_the_others_and_its_mail_is_retried_later(failing_address, settings):
    settings.MAIL_ATTEMPTS = 3
    settings.MAIL_RETRY_SECONDS = 60
    first, failing, last = sorted(UserFactory.create_batch(3), key=lambda owner: owner.pk)
    projects = {owner: ProjectFactory(owner=owner, expiration_date=in_days(1)) for owner in (first, failing, last)}
    failing_address["address"] = failing.email

    output = _remind()

    assert _recipients() == sorted([first.email, last.email])
    assert "Reminded 3 owner(s) about 3 project(s)." in output
    # The failed mail waits for its next try, so its project stays claimed: another run does not send it twice.
    (retry,) = Schedule.objects.filter(func="common.mail.mail_send")
    assert retry.schedule_type == Schedule.ONCE
    assert "'attempt': 2" in retry.kwargs and repr([failing.email]) in retry.kwargs
    assert 55 <= (retry.next_run - timezone.now()).total_seconds() <= 60
    assert _reminded_for(projects[failing]) == in_days(1)
    assert "Reminded 0 owner(s) about 0 project(s)." in _remind()


def test_a_reminder_whose_last_try_fails_is_re_armed_for_the_next_run(failing_address, settings):
    settings.MAIL_ATTEMPTS = 1
    first, failing = sorted(UserFactory.create_batch(2), key=lambda owner: owner.pk)
    projects = {owner: ProjectFactory(owner=owner, expiration_date=in_days(1)) for owner in (first, failing)}
    failing_address["address"] = failing.email

    _remind()

    assert _recipients() == [first.email]
    assert not Schedule.objects.filter(func="common.mail.mail_send").exists()
    assert _reminded_for(projects[failing]) is None
    assert _reminded_for(projects[first]) == in_days(1)

    failing_address["address"] = None
    assert "Reminded 1 owner(s) about 1 project(s)." in _remind()
    assert _recipients() == sorted([first.email, failing.email])
    assert _reminded_for(projects[failing]) == in_days(1)


def test_no_due_projects_sends_nothing(user):
    ProjectFactory(owner=user)
    assert _remind().splitlines() == ["Reminded 0 owner(s) about 0 project(s).", NO_MEMBERS]
    assert mail.outbox == []
