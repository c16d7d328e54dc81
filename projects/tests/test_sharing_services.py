"""Project sharing against the database: the role lookup, the membership model and services, transfer, reminders."""

import datetime
from datetime import UTC, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail as real_send_mail
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from experiments.tests.factories import ExperimentFactory
from projects import services, sharing
from projects.access import PROJECT_ACCESS, projects_allowing
from projects.models import Project, ProjectInvitation, ProjectMembership, ProjectRole
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory, accepted_membership
from registry.tests.support import ago, from_now, run_command

pytestmark = pytest.mark.django_db

R = ProjectRole


def _member(project: Project, role: str, **kwargs):
    return ProjectMembershipFactory(project=project, role=role, **kwargs).user


def _rows() -> list[dict]:
    return list(ProjectMembership.objects.order_by("pk").values())


# ---------------------------------------------------------------------------------------------------------------------
# Roles
# ---------------------------------------------------------------------------------------------------------------------

# Each role and the roles it reaches, written out.
REACHES = {
    R.VIEWER: {R.VIEWER},
    R.EDITOR: {R.VIEWER, R.EDITOR},
    R.MAINTAINER: {R.VIEWER, R.EDITOR, R.MAINTAINER},
    R.OWNER: {R.VIEWER, R.EDITOR, R.MAINTAINER, R.OWNER},
}


@pytest.mark.parametrize("role", list(REACHES))
def test_a_role_reaches_itself_and_the_roles_below_it(role):
    assert {minimum for minimum in R.values if PROJECT_ACCESS.reaches(role, minimum)} == REACHES[role]


@pytest.mark.parametrize("minimum", list(REACHES))
def test_no_role_reaches_nothing(minimum):
    assert not PROJECT_ACCESS.reaches(None, minimum)


def test_the_roles_that_may_do_an_operation():
    assert PROJECT_ACCESS.roles_for("add_experiment") == [R.EDITOR, R.MAINTAINER, R.OWNER]
    assert PROJECT_ACCESS.roles_for("transfer") == [R.OWNER]


@pytest.fixture
def project(user) -> Project:
    return ProjectFactory(owner=user)


def _role_of(caller, project: Project) -> str | None:
    return Project.objects.with_role(caller).get(pk=project.pk).role


def test_with_role_gives_each_caller_their_role(user, project):
    members = {role: _member(project, role) for role in (R.VIEWER, R.EDITOR, R.MAINTAINER)}
    assert _role_of(user, project) == R.OWNER
    for role, member in members.items():
        assert _role_of(member, project) == role
    assert _role_of(UserFactory(), project) is None
    assert _role_of(UserFactory(is_staff=True), project) is None
    assert _role_of(UserFactory(is_superuser=True), project) == R.OWNER
    assert _role_of(AnonymousUser(), project) is None


def test_an_expired_membership_has_no_role_and_one_expiring_later_has_its_role(project):
    assert _role_of(_member(project, R.MAINTAINER, expires_at=ago(seconds=1)), project) is None
    assert _role_of(_member(project, R.MAINTAINER, expires_at=from_now(seconds=5)), project) == R.MAINTAINER


def test_a_membership_expires_at_its_expiry_exactly(project, time_machine):
    moment = datetime.datetime(2025, 3, 1, 12, tzinfo=UTC)
    member = _member(project, R.EDITOR, expires_at=moment)
    time_machine.move_to(moment - timedelta(microseconds=1), tick=False)
    assert _role_of(member, project) == R.EDITOR
    assert ProjectMembership.objects.active().filter(user=member).exists()
    time_machine.move_to(moment, tick=False)
    assert _role_of(member, project) is None
    assert not ProjectMembership.objects.active().filter(user=member).exists()
    assert not ProjectMembership.objects.active().filter(user=member).exists()


def test_a_role_in_one_project_grants_nothing_in_another(user, project):
    member = _member(project, R.MAINTAINER)
    other = ProjectFactory(owner=user)
    assert _role_of(member, other) is None


def test_visible_to_and_writable_by(user):
    me = UserFactory()
    owned = ProjectFactory(owner=me)
    by_role = {
        role: ProjectMembershipFactory(user=me, role=role).project for role in (R.VIEWER, R.EDITOR, R.MAINTAINER)
    }
    ProjectMembershipFactory(user=me, role=R.MAINTAINER, expires_at=ago(days=1))
    ProjectFactory(owner=user)
    visible = {project.pk: project.role for project in Project.objects.visible_to(me)}
    assert visible == {owned.pk: R.OWNER, **{project.pk: role for role, project in by_role.items()}}
    writable = set(projects_allowing(me, "add_experiment").values_list("pk", flat=True))
    assert writable == {owned.pk, by_role[R.EDITOR].pk, by_role[R.MAINTAINER].pk}
    assert not Project.objects.visible_to(AnonymousUser()).exists()
    assert set(Project.objects.visible_to(UserFactory(is_superuser=True))) == set(Project.objects.all())
    assert not Project.objects.visible_to(UserFactory(is_staff=True)).exists()


def test_experiment_access_is_owner_for_its_owner_else_the_project_role_with_the_project_owner_as_maintainer(
    user, project
):
    viewer = _member(project, R.VIEWER)
    theirs = ExperimentFactory(owner=user, project=project)
    viewers_own = ExperimentFactory(owner=viewer, project=project)
    private = ExperimentFactory(owner=user)

    def access(caller) -> dict[int, str | None]:
        return dict(Experiment.objects.with_access(caller).values_list("pk", "access_role"))

    assert access(viewer) == {theirs.pk: R.VIEWER, viewers_own.pk: R.OWNER, private.pk: None}
    # The project's owner may do all but move someone else's experiment, which is its owner's to decide.
    assert access(user) == {theirs.pk: R.OWNER, viewers_own.pk: R.MAINTAINER, private.pk: R.OWNER}
    assert access(UserFactory(is_superuser=True)) == {theirs.pk: R.OWNER, viewers_own.pk: R.OWNER, private.pk: R.OWNER}
    assert access(UserFactory()) == {theirs.pk: None, viewers_own.pk: None, private.pk: None}
    assert set(Experiment.objects.where_visible_to(viewer)) == {theirs, viewers_own}
    assert not Experiment.objects.where_visible_to(AnonymousUser()).exists()


# ---------------------------------------------------------------------------------------------------------------------
# The membership model
# ---------------------------------------------------------------------------------------------------------------------


def test_one_membership_per_user_and_project(project):
    membership = ProjectMembershipFactory(project=project)
    duplicate = ProjectMembership(project=project, user=membership.user, role=R.EDITOR)
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "This user is already a member of the project." in str(excinfo.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


@pytest.mark.parametrize("role", [R.OWNER, "admin", ""])
def test_a_membership_role_is_viewer_editor_or_maintainer(project, role):
    membership = ProjectMembership(project=project, user=UserFactory(), role=role)
    with pytest.raises(ValidationError) as excinfo:
        membership.full_clean()
    assert "role" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        membership.save()


def test_the_owner_is_never_a_member(user, project):
    with pytest.raises(ValidationError) as excinfo:
        ProjectMembership(project=project, user=user, role=R.VIEWER).full_clean()
    assert excinfo.value.message_dict == {"user": ["The owner of a project cannot also be a member of it."]}


def test_membership_str_and_cascades(project):
    membership = ProjectMembershipFactory(project=project, role=R.EDITOR)
    assert str(membership) == f"{membership.user} (editor) in {project}"
    project.delete()
    assert not ProjectMembership.objects.exists()
    # The member and the one who added them keep their accounts.
    assert User.objects.filter(pk__in=[membership.user_id, membership.added_by_id]).count() == 2


def test_deleting_the_adder_keeps_the_membership(project):
    adder = UserFactory()
    membership = ProjectMembershipFactory(project=project, added_by=adder)
    adder.delete()
    assert ProjectMembership.objects.get(pk=membership.pk).added_by is None


# ---------------------------------------------------------------------------------------------------------------------
# membership_invite, then invitation_accept
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", [R.MAINTAINER, R.OWNER])
@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_membership_invite_by_a_maintainer_or_the_owner_grants_the_role_on_acceptance(user, project, actor_role, role):
    actor = user if actor_role == R.OWNER else _member(project, actor_role)
    newcomer = UserFactory()
    expires = from_now(days=3)
    invitation = sharing.membership_invite(project=project, actor=actor, user=newcomer, role=role, expires_at=expires)
    assert not ProjectMembership.objects.filter(user=newcomer).exists()
    sharing.invitation_accept(invitation=invitation, actor=newcomer)
    stored = ProjectMembership.objects.get(user=newcomer)
    assert (stored.project, stored.user, stored.role, stored.added_by, stored.expires_at) == (
        project,
        newcomer,
        role,
        actor,
        expires,
    )


def _invitation_rows() -> list[dict]:
    return list(ProjectInvitation.objects.order_by("pk").values())


@pytest.mark.parametrize("actor_role", [R.VIEWER, R.EDITOR, None, "expired maintainer", "staff"])
def test_membership_invite_by_anyone_else_is_refused(project, actor_role):
    if actor_role is None:
        actor = UserFactory()
    elif actor_role == "staff":
        actor = UserFactory(is_staff=True)
    elif actor_role == "expired maintainer":
        actor = _member(project, R.MAINTAINER, expires_at=ago(seconds=1))
    else:
        actor = _member(project, actor_role)
    before = (_rows(), _invitation_rows())
    with pytest.raises(PermissionDenied):
        sharing.membership_invite(project=project, actor=actor, user=UserFactory(), role=R.VIEWER)
    assert (_rows(), _invitation_rows()) == before


def test_membership_invite_by_a_superuser_records_them_as_the_adder(project):
    admin = UserFactory(is_superuser=True)
    membership = accepted_membership(project=project, actor=admin, role=R.MAINTAINER)
    assert membership.added_by == admin


def test_membership_invite_of_the_owner_role_is_refused(user, project):
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_invite(project=project, actor=user, user=UserFactory(), role=R.OWNER)
    assert set(excinfo.value.message_dict) == {"role"}
    assert not ProjectInvitation.objects.exists()


def test_membership_invite_of_the_owner_is_refused(user, project):
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_invite(project=project, actor=_member(project, R.MAINTAINER), user=user, role=R.VIEWER)
    assert excinfo.value.message_dict == {"user": ["The owner of a project cannot also be a member of it."]}
    assert not ProjectInvitation.objects.exists()


def test_renewing_a_member_whose_membership_expired_is_an_invitation_that_renews_the_same_row(user, project):
    expired = _member(project, R.VIEWER, expires_at=ago(days=1))
    before = ProjectMembership.objects.get(user=expired)
    invitation = sharing.membership_invite(project=project, actor=user, user=expired, role=R.EDITOR)
    assert _role_of(expired, project) is None
    sharing.invitation_accept(invitation=invitation, actor=expired)
    row = ProjectMembership.objects.get(user=expired)
    assert (row.pk, row.role, row.expires_at, row.added_by_id) == (before.pk, R.EDITOR, None, user.pk)
    assert _role_of(expired, project) == R.EDITOR


# ---------------------------------------------------------------------------------------------------------------------
# membership_change
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor_role", [R.MAINTAINER, R.OWNER])
def test_membership_change_sets_the_role_and_expiry(user, project, actor_role):
    actor = user if actor_role == R.OWNER else _member(project, actor_role)
    membership = ProjectMembershipFactory(project=project, role=R.VIEWER)
    expires = from_now(days=9)
    sharing.membership_change(membership=membership, actor=actor, role=R.MAINTAINER, expires_at=expires)
    stored = ProjectMembership.objects.get(pk=membership.pk)
    assert (stored.role, stored.expires_at, stored.added_by) == (R.MAINTAINER, expires, user)
    assert stored.updated_at > stored.created_at


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_membership_change_of_ones_own_membership_is_refused(project, role):
    membership = ProjectMembershipFactory(project=project, role=role)
    before = _rows()
    with pytest.raises(PermissionDenied):
        sharing.membership_change(membership=membership, actor=membership.user, role=R.VIEWER)
    assert _rows() == before


@pytest.mark.parametrize("actor_role", [R.VIEWER, R.EDITOR])
def test_membership_change_by_a_viewer_or_editor_is_refused(project, actor_role):
    membership = ProjectMembershipFactory(project=project, role=R.VIEWER)
    actor = _member(project, actor_role)
    before = _rows()
    with pytest.raises(PermissionDenied):
        sharing.membership_change(membership=membership, actor=actor, role=R.EDITOR)
    assert _rows() == before


def test_membership_change_to_owner_is_refused(user, project):
    membership = ProjectMembershipFactory(project=project, role=R.MAINTAINER)
    with pytest.raises(ValidationError) as excinfo:
        sharing.membership_change(membership=membership, actor=user, role=R.OWNER)
    assert set(excinfo.value.message_dict) == {"role"}
    assert ProjectMembership.objects.get(pk=membership.pk).role == R.MAINTAINER


def test_membership_change_of_another_field_is_a_programming_error(user, project):
    membership = ProjectMembershipFactory(project=project)
    with pytest.raises(ValueError, match="user"):
        sharing.membership_change(membership=membership, actor=user, user=UserFactory())


# ---------------------------------------------------------------------------------------------------------------------
# membership_remove
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
@pytest.mark.parametrize("expired", [False, True], ids=["live", "expired"])
def test_a_member_may_always_leave(project, role, expired):
    membership = ProjectMembershipFactory(project=project, role=role, expires_at=ago(days=1) if expired else None)
    sharing.membership_remove(membership=membership, actor=membership.user)
    assert not ProjectMembership.objects.exists()


@pytest.mark.parametrize("actor_role", [R.MAINTAINER, R.OWNER])
@pytest.mark.parametrize("role", [R.VIEWER, R.EDITOR, R.MAINTAINER])
def test_a_maintainer_or_the_owner_removes_members_up_to_maintainer(user, project, actor_role, role):
    actor = user if actor_role == R.OWNER else _member(project, actor_role)
    membership = ProjectMembershipFactory(project=project, role=role)
    sharing.membership_remove(membership=membership, actor=actor)
    assert not ProjectMembership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize("actor_role", [R.VIEWER, R.EDITOR, None])
def test_anyone_else_cannot_remove_a_member(project, actor_role):
    actor = _member(project, actor_role) if actor_role else UserFactory()
    membership = ProjectMembershipFactory(project=project, role=R.VIEWER)
    before = _rows()
    with pytest.raises(PermissionDenied):
        sharing.membership_remove(membership=membership, actor=actor)
    assert _rows() == before


# ---------------------------------------------------------------------------------------------------------------------
# project_transfer_invite, then invitation_accept
# ---------------------------------------------------------------------------------------------------------------------


def _transfer(project: Project, *, actor: User, new_owner: User) -> None:
    invitation = sharing.project_transfer_invite(project=project, actor=actor, new_owner=new_owner)
    sharing.invitation_accept(invitation=invitation, actor=new_owner)


@pytest.mark.parametrize("previous_role", [None, R.VIEWER, R.EDITOR, R.MAINTAINER, "expired"])
def test_transfer_swaps_the_owner_and_keeps_the_old_one_as_maintainer(user, project, previous_role):
    new_owner = UserFactory()
    if previous_role == "expired":
        ProjectMembershipFactory(project=project, user=new_owner, expires_at=ago(days=1))
    elif previous_role:
        ProjectMembershipFactory(project=project, user=new_owner, role=previous_role)
    bystander = ProjectMembershipFactory(project=project, role=R.EDITOR)

    _transfer(project, actor=user, new_owner=new_owner)

    assert Project.objects.get(pk=project.pk).owner == new_owner
    assert not ProjectMembership.objects.filter(project=project, user=new_owner).exists()
    kept = ProjectMembership.objects.get(project=project, user=user)
    assert (kept.role, kept.added_by, kept.expires_at) == (R.MAINTAINER, user, None)
    assert ProjectMembership.objects.get(pk=bystander.pk).role == R.EDITOR
    assert _role_of(new_owner, project) == R.OWNER
    assert _role_of(user, project) == R.MAINTAINER


def test_transfer_keeps_the_experiments_and_their_owners(user, project):
    experiment = ExperimentFactory(owner=user, project=project)
    _transfer(project, actor=user, new_owner=UserFactory())
    stored = Experiment.objects.get(pk=experiment.pk)
    assert (stored.project, stored.owner) == (project, user)


@pytest.mark.parametrize("actor_role", [R.VIEWER, R.EDITOR, R.MAINTAINER, None])
def test_transfer_by_anyone_but_the_owner_is_refused(user, project, actor_role):
    actor = _member(project, actor_role) if actor_role else UserFactory()
    before = (_rows(), _invitation_rows())
    with pytest.raises(PermissionDenied):
        sharing.project_transfer_invite(project=project, actor=actor, new_owner=actor)
    assert Project.objects.get(pk=project.pk).owner == user
    assert (_rows(), _invitation_rows()) == before


def test_transfer_to_the_current_owner_is_refused(user, project):
    with pytest.raises(ValidationError) as excinfo:
        sharing.project_transfer_invite(project=project, actor=user, new_owner=user)
    assert set(excinfo.value.message_dict) == {"user"}
    assert not ProjectInvitation.objects.exists()


def test_transfer_to_someone_with_a_project_of_that_name_is_refused_to_them_on_acceptance(user, project):
    new_owner = _member(project, R.EDITOR)
    ProjectFactory(owner=new_owner, name=project.name.title())
    invitation = sharing.project_transfer_invite(project=project, actor=user, new_owner=new_owner)
    before = (_rows(), list(Project.objects.order_by("pk").values()), _invitation_rows())
    with pytest.raises(ValidationError) as excinfo:
        sharing.invitation_accept(invitation=invitation, actor=new_owner)
    assert excinfo.value.messages == [f"You already own a project named {project.name}; rename it first."]
    assert (_rows(), list(Project.objects.order_by("pk").values()), _invitation_rows()) == before


def test_transfer_by_a_superuser_records_them_as_the_adder(user, project):
    admin = UserFactory(is_superuser=True)
    _transfer(project, actor=admin, new_owner=UserFactory())
    kept = ProjectMembership.objects.get(project=project, user=user)
    assert (kept.role, kept.added_by) == (R.MAINTAINER, admin)


# ---------------------------------------------------------------------------------------------------------------------
# Membership expiry reminders
# ---------------------------------------------------------------------------------------------------------------------

NOW = datetime.datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def _remind(*args: str) -> str:
    return run_command("send_expiration_reminders", *args)


def _reminded_for(membership: ProjectMembership) -> datetime.datetime | None:
    return ProjectMembership.objects.get(pk=membership.pk).reminded_for_expiry


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("expires_in", "reminded"),
    [
        (None, False),
        (timedelta(days=-1), False),
        (timedelta(0), False),
        (timedelta(minutes=1), True),
        (timedelta(days=3), True),
        (timedelta(days=7), True),
        (timedelta(days=7, seconds=1), False),
        (timedelta(days=30), False),
    ],
    ids=["never", "expired yesterday", "expiring now", "in a minute", "in 3 days", "in 7 days", "just past 7", "in 30"],
)
def test_who_hears_that_their_membership_ends(frozen, project, expires_in, reminded):
    ProjectMembershipFactory(project=project, expires_at=None if expires_in is None else NOW + expires_in)
    summary = services.membership_send_expiry_reminders()
    assert (summary.recipients, len(mail.outbox)) == ((1, 1) if reminded else (0, 0))


@pytest.mark.django_db(transaction=True)
def test_the_window_follows_the_setting(frozen, project, settings):
    settings.EXPIRATION_REMINDER_DAYS = 10
    ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=9))
    assert services.membership_send_expiry_reminders().recipients == 1


@pytest.mark.django_db(transaction=True)
def test_one_message_per_member_names_each_of_their_ending_memberships(frozen):
    member, other = UserFactory(), UserFactory()
    first = ProjectMembershipFactory(
        user=member, role=R.EDITOR, project__name="warehouse", expires_at=NOW + timedelta(1)
    )
    second = ProjectMembershipFactory(user=member, role=R.VIEWER, project__name="lake", expires_at=NOW + timedelta(5))
    ProjectMembershipFactory(user=member, project__name="forever")
    ProjectMembershipFactory(user=other, project__name="theirs", expires_at=NOW + timedelta(2))

    output = _remind()

    assert sorted(message.to[0] for message in mail.outbox) == sorted([member.email, other.email])
    (message,) = [message for message in mail.outbox if message.to == [member.email]]
    assert message.subject == "Registry: your project access ends soon"
    assert f"- warehouse (editor) until {first.expires_at.isoformat()}" in message.body
    assert f"- lake (viewer) until {second.expires_at.isoformat()}" in message.body
    assert "forever" not in message.body and "theirs" not in message.body
    assert f"{member.email}: access ends to warehouse, lake" in output
    assert "Reminded 2 member(s) about 3 expiring membership(s)." in output


@pytest.mark.django_db(transaction=True)
def test_a_second_run_sends_nothing(frozen, project):
    membership = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=2))
    _remind()
    assert _reminded_for(membership) == membership.expires_at
    output = _remind()
    assert len(mail.outbox) == 1
    assert "Reminded 0 member(s) about 0 expiring membership(s)." in output


@pytest.mark.django_db(transaction=True)
def test_a_changed_expiry_re_arms_the_reminder(frozen, user, project):
    membership = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=2))
    _remind()
    sharing.membership_change(membership=membership, actor=user, expires_at=NOW + timedelta(days=5))
    _remind()
    _remind()
    assert len(mail.outbox) == 2
    assert (NOW + timedelta(days=5)).isoformat() in mail.outbox[1].body


@pytest.mark.django_db(transaction=True)
def test_a_membership_entering_the_window_is_reminded_once_it_does(frozen, project):
    ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=10))
    _remind()
    assert mail.outbox == []
    frozen.move_to(NOW + timedelta(days=4), tick=False)
    _remind()
    frozen.move_to(NOW + timedelta(days=5), tick=False)
    _remind()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_members_hear_a_week_ahead_whatever_days_the_command_is_given(frozen, project):
    ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=20))
    _remind("--days", "30")
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_a_member_who_also_owns_an_expiring_project_gets_one_message_of_each(frozen, project):
    member = _member(project, R.VIEWER, expires_at=NOW + timedelta(days=1))
    ProjectFactory(owner=member, expiration_date=(NOW + timedelta(days=1)).date())
    _remind()
    assert sorted(message.subject for message in mail.outbox) == [
        "Registry: projects expiring soon",
        "Registry: your project access ends soon",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_dry_run_sends_and_records_nothing(frozen, project):
    membership = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=1))
    output = _remind("--dry-run")
    assert mail.outbox == []
    assert _reminded_for(membership) is None
    assert f"{membership.user.email}: access ends to {project.name}" in output
    assert "Would remind 1 member(s) about 1 expiring membership(s)." in output
    _remind()
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_failing_address_does_not_stop_the_others_and_is_re_armed_after_its_last_try(
    frozen, project, monkeypatch, settings
):
    settings.MAIL_ATTEMPTS = 1
    failing = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=1))
    working = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=1))

    refused = {failing.user.email}

    def send_mail(*args, recipient_list, **kwargs):
        if refused & set(recipient_list):
            raise ConnectionRefusedError("refused")
        return real_send_mail(*args, recipient_list=recipient_list, **kwargs)

    monkeypatch.setattr("common.mail.send_mail", send_mail)
    summary = services.membership_send_expiry_reminders()
    assert summary.recipients == 2
    assert [message.to for message in mail.outbox] == [[working.user.email]]
    assert _reminded_for(failing) is None
    assert _reminded_for(working) == working.expires_at

    refused.clear()
    services.membership_send_expiry_reminders()
    assert [message.to for message in mail.outbox] == [[working.user.email], [failing.user.email]]


def test_a_membership_claimed_by_a_concurrent_run_is_not_sent_twice(frozen, project, monkeypatch):
    membership = ProjectMembershipFactory(project=project, expires_at=NOW + timedelta(days=1))
    real_claim = services._claim

    def claim_after_another_run(item, **fields):
        # Another run claims the row between this run's listing and its claim.
        ProjectMembership.objects.filter(pk=item.pk).update(reminded_for_expiry=item.expires_at)
        return real_claim(item, **fields)

    monkeypatch.setattr(services, "_claim", claim_after_another_run)
    assert services.membership_send_expiry_reminders().recipients == 0
    assert mail.outbox == []
    assert _reminded_for(membership) == membership.expires_at
