import factory

from accounts.tests.factories import UserFactory
from experiments.models import Experiment
from tracking.services import metrics_set_latest


class ExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Experiment
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"experiment {n}")
    description = ""
    parameters = factory.LazyFunction(lambda: {"learning_rate": 0.01, "dataset": "v1"})
    tags = factory.LazyFunction(list)
    owner = factory.SubFactory(UserFactory)

    @factory.post_generation
    def results(experiment, create, values):
        # Results are the latest values of metrics, so they are recorded as metric points.
        if create and values:
            metrics_set_latest(experiment=experiment, values=values)
