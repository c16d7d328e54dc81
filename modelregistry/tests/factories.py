import factory
from django.utils import timezone

from loggedmodels.models import LoggedModelStatus
from loggedmodels.tests.factories import LoggedModelFactory
from modelregistry.models import ModelVersion, RegisteredModel, RegisteredModelAlias
from projects.tests.factories import ProjectFactory


class RegisteredModelFactory(factory.django.DjangoModelFactory):
    """A registered model in a project of its own, made by that project's owner, without versions."""

    class Meta:
        model = RegisteredModel

    project = factory.SubFactory(ProjectFactory)
    creator = factory.SelfAttribute("project.owner")
    name = factory.Sequence(lambda n: f"registered-{n}")


class ModelVersionFactory(factory.django.DjangoModelFactory):
    """The next version of a model, whose files are a READY logged model of the model's project."""

    class Meta:
        model = ModelVersion

    registered_model = factory.SubFactory(RegisteredModelFactory)
    logged_model = factory.LazyAttribute(
        lambda version: LoggedModelFactory(project=version.registered_model.project, status=LoggedModelStatus.READY)
    )
    model_id = factory.SelfAttribute("logged_model.model_id")
    source = factory.LazyAttribute(lambda version: f"models:/{version.model_id}")
    storage_location = factory.LazyAttribute(
        lambda version: f"mlflow-artifacts:/{version.registered_model.project_id}/models/{version.model_id}/artifacts"
    )
    creator = factory.SelfAttribute("registered_model.creator")

    @factory.lazy_attribute
    def version(self):
        model = self.registered_model
        model.last_version += 1
        RegisteredModel.objects.filter(pk=model.pk).update(last_version=model.last_version)
        return model.last_version


class AliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegisteredModelAlias

    model_version = factory.SubFactory(ModelVersionFactory)
    registered_model = factory.SelfAttribute("model_version.registered_model")
    alias = "champion"
    set_by = factory.SelfAttribute("registered_model.creator")
    set_at = factory.LazyFunction(timezone.now)
