import factory

from accounts.tests.factories import UserFactory
from loggedmodels.models import LoggedModel
from projects.tests.factories import ProjectFactory


class LoggedModelFactory(factory.django.DjangoModelFactory):
    """A pending model in a project of its own, made by that project's owner."""

    class Meta:
        model = LoggedModel

    project = factory.SubFactory(ProjectFactory)
    creator = factory.SelfAttribute("project.owner")
    name = factory.Sequence(lambda n: f"model{n}")


__all__ = ["LoggedModelFactory", "UserFactory"]
