import factory

from accounts.tests.factories import UserFactory
from experiments.models import Experiment


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment

    name = factory.Sequence(lambda n: f"experiment {n}")
    description = ""
    parameters = factory.LazyFunction(lambda: {"learning_rate": 0.01, "dataset": "v1"})
    results = factory.LazyFunction(dict)
    tags = factory.LazyFunction(list)
    owner = factory.SubFactory(UserFactory)
