import factory

from accounts.tests.factories import UserFactory
from projects.models import Project


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"project {n}")
    description = ""
    expiration_date = None
    owner = factory.SubFactory(UserFactory)
