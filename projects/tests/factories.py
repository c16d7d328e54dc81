import datetime

import factory
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from projects import sharing
from projects.models import InvitationKind, Project, ProjectInvitation, ProjectMembership, ProjectRole


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project {n}")
    description = ""
    expiration_date = None
    owner = factory.SubFactory(UserFactory)


class ProjectMembershipFactory(factory.django.DjangoModelFactory):
    """A live viewer membership, added by the project's owner, as if its member had accepted the invitation (see
    `accepted_membership` for the way through the services); pass `expires_at` in the past for an expired one."""

    class Meta:
        model = ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = ProjectRole.VIEWER
    added_by = factory.SelfAttribute("project.owner")
    expires_at = None


class ProjectInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation to a viewer membership, sent by the project's owner, acceptable for a week."""

    class Meta:
        model = ProjectInvitation

    project = factory.SubFactory(ProjectFactory)
    invitee = factory.SubFactory(UserFactory)
    kind = InvitationKind.MEMBERSHIP
    role = ProjectRole.VIEWER
    membership_expires_at = None
    invited_by = factory.SelfAttribute("project.owner")
    expires_at = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=7))


def accepted_membership(
    *, project: Project, user: User | None = None, role: str = ProjectRole.VIEWER, expires_at=None, actor=None
) -> ProjectMembership:
    """A membership made as members are made: `actor` (default: the owner) invites, and the user accepts."""
    user = user or UserFactory()
    invitation = sharing.membership_invite(
        project=project, actor=actor or project.owner, user=user, role=role, expires_at=expires_at
    )
    sharing.invitation_accept(invitation=invitation, actor=user)
    return ProjectMembership.objects.get(project=project, user=user)
