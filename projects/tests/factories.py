import factory

from accounts.tests.factories import UserFactory
from projects.models import Project, ProjectMembership, ProjectRole


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project {n}")
    description = ""
    expiration_date = None
    owner = factory.SubFactory(UserFactory)


class ProjectMembershipFactory(factory.django.DjangoModelFactory):
    """A live viewer membership, added by the project's owner; pass `expires_at` in the past for an expired one."""

    class Meta:
        model = ProjectMembership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = ProjectRole.VIEWER
    added_by = factory.SelfAttribute("project.owner")
    expires_at = None
