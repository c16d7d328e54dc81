"""MLflow's model registry (`/api/2.0/mlflow/registered-models/...` and `model-versions/...`), as the client calls them
for `register_model`, aliases, stages and `load_model("models:/<name>@<alias>")`: thin adapters on
modelregistry.services and modelregistry.selectors, answering MLflow's shapes.

Names resolve among the models of the projects the caller may see (modelregistry.selectors); `<experiment_id>:<name>`
names one model where a bare name is shared. A model created without a qualified name goes to the caller's Default
project (experiment "0") and follows its first version's source to that source's project. A version's source is a
logged model (`models:/m-<id>`, MLflow 3), a run's folder of files (`runs:/<run_id>/<path>` or the
`mlflow-artifacts:/` URI of one, MLflow 2, copied into a logged model) or another version (`models:/<name>/<version>`).
"""

from mlflow_api import entities, lookups
from mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, does_not_exist
from mlflow_api.fields import pairs, strings, text
from modelregistry import selectors
from modelregistry import services as registry
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
)
from projects.models import Project

LATEST_ALIAS = "latest"

# ---------------------------------------------------------------------------------------------------------------------
# Answers
# ---------------------------------------------------------------------------------------------------------------------


def _tags(tags) -> list[dict]:
    return [{"key": tag.key, "value": tag.value} for tag in tags]


def _username(user) -> str:
    return user.username if user is not None else ""


def model_version_json(version: ModelVersion, *, with_aliases: bool = True) -> dict:
    """A version as MLflow's server answers it, and beside MLflow's fields (which its client ignores) the
    experiment, the storage location and who set each alias when (`alias_details`)."""
    model = version.registered_model
    answer = {
        "name": getattr(model, "shown_name", model.name),
        "version": str(version.version),
        "creation_timestamp": entities.to_ms(version.created_at),
        "last_updated_timestamp": entities.to_ms(version.updated_at),
        "user_id": _username(version.creator),
        "current_stage": version.stage,
        "description": version.description,
        "source": version.source,
        "status": version.status,
        "run_link": version.run_link,
        "experiment_id": str(model.project_id),
        "storage_location": version.storage_location,
    }
    if version.run_uuid:
        answer["run_id"] = version.run_uuid
    if version.model_id:
        answer["model_id"] = version.model_id
    tags = list(version.tags.all())
    if tags:
        answer["tags"] = _tags(tags)
    aliases = list(version.aliases.all()) if with_aliases else []
    if aliases:
        answer["aliases"] = [alias.alias for alias in aliases]
        answer["alias_details"] = [_alias_detail(alias) for alias in aliases]
    return answer


def _alias_detail(alias: RegisteredModelAlias) -> dict:
    return {"alias": alias.alias, "set_by": _username(alias.set_by), "set_at": entities.to_ms(alias.set_at)}


def registered_model_json(model: RegisteredModel, latest: list[ModelVersion] | None = None) -> dict:
    """A model as MLflow's server answers it; each alias also says who set it and when (fields the client ignores)."""
    answer = {
        "name": getattr(model, "shown_name", model.name),
        "creation_timestamp": entities.to_ms(model.created_at),
        "last_updated_timestamp": entities.to_ms(model.updated_at),
        "user_id": _username(model.creator),
        "experiment_id": str(model.project_id),
    }
    if model.description:
        answer["description"] = model.description
    if latest:
        answer["latest_versions"] = [model_version_json(version, with_aliases=False) for version in latest]
    tags = list(model.tags.all())
    if tags:
        answer["tags"] = _tags(tags)
    aliases = list(model.aliases.all())
    if aliases:
        answer["aliases"] = [
            {"alias": alias.alias, "version": str(alias.model_version.version), **_alias_detail(alias)}
            for alias in aliases
        ]
    return answer


def _model_answer(model: RegisteredModel) -> dict:
    latest = selectors.latest_versions(model_ids=[model.pk])[model.pk]
    for version in latest:
        version.registered_model = model
    return {"registered_model": registered_model_json(model, latest)}


# ---------------------------------------------------------------------------------------------------------------------
# Lookups
# ---------------------------------------------------------------------------------------------------------------------


def model_for(request, name, operation: str, *, shown: bool = False) -> RegisteredModel:
    """The model `name` addresses for the caller, if their role allows `operation` on it; `shown` reads with it what
    its own answer shows (its tags and aliases)."""
    model = selectors.registered_model_resolve(user=request.user, name=name, shown=shown)
    REGISTERED_MODEL_ACCESS.remember(request.user, model, model.role)
    REGISTERED_MODEL_ACCESS.require(request.user, model, operation)
    return model


def version_for(request, data, operation: str) -> ModelVersion:
    model = model_for(request, text(data, "name"), "retrieve")
    version = selectors.model_version_get(model=model, version=text(data, "version"))
    REGISTERED_MODEL_ACCESS.remember(request.user, version, model.role)
    REGISTERED_MODEL_ACCESS.require(request.user, version, operation)
    return version


def key_values(data, name: str) -> dict[str, str]:
    return {item.get("key"): item.get("value", "") for item in pairs(data, name)}


def string_list(data, name: str) -> list[str]:
    """A repeated field: a JSON list in a body, or the parameter given several times in a query string."""
    if hasattr(data, "getlist"):
        return [str(item) for item in data.getlist(name)]
    return strings(data, name)


# ---------------------------------------------------------------------------------------------------------------------
# Registered models
# ---------------------------------------------------------------------------------------------------------------------


def _already_exists(name: str) -> MlflowError:
    return MlflowError(f"Registered Model (name={name}) already exists.", RESOURCE_ALREADY_EXISTS)


def create_registered_model(request, data):
    """In the project a qualified name names; else, unless the caller already sees a model of that name (which MLflow
    answers RESOURCE_ALREADY_EXISTS, and `register_model` then adds a version to), in their Default project, which
    the model leaves for its first version's source's project."""
    name = text(data, "name")
    project_id, bare = selectors.split_name(name)
    if project_id is not None:
        project = lookups.project_for(user=request.user, experiment_id=str(project_id), operation="retrieve")
        placed_by_default = False
    else:
        if RegisteredModel.objects.filter(
            project__in=Project.objects.where_visible_to(request.user), name=bare
        ).exists():
            raise _already_exists(name)
        project = lookups.default_project(user=request.user)
        placed_by_default = True
    try:
        model = registry.registered_model_create(
            actor=request.user,
            project=project,
            name=bare,
            description=text(data, "description", required=False, default=""),
            tags=key_values(data, "tags"),
            placed_by_default=placed_by_default,
        )
    except registry.ModelNameTaken as exc:
        raise _already_exists(name) from exc
    model.shown_name = name
    return {"registered_model": registered_model_json(model)}


def get_registered_model(request, data):
    return _model_answer(model_for(request, text(data, "name"), "retrieve", shown=True))


def rename_registered_model(request, data):
    model = model_for(request, text(data, "name"), "retrieve", shown=True)
    new_name = text(data, "new_name")
    project_id, bare = selectors.split_name(new_name)
    if project_id is not None and project_id != model.project_id:
        raise MlflowError(f"A registered model is renamed within its experiment ({model.project_id}).")
    try:
        registry.registered_model_rename(actor=request.user, model=model, new_name=bare)
    except registry.ModelNameTaken as exc:
        raise _already_exists(new_name) from exc
    model.shown_name = new_name
    return _model_answer(model)


def update_registered_model(request, data):
    model = model_for(request, text(data, "name"), "retrieve", shown=True)
    registry.registered_model_update(
        actor=request.user, model=model, description=text(data, "description", required=False, default="")
    )
    return _model_answer(model)


def delete_registered_model(request, data):
    registry.registered_model_delete(actor=request.user, model=model_for(request, text(data, "name"), "retrieve"))


def get_latest_versions(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    stages = [registry.canonical_stage(stage) for stage in string_list(data, "stages")] or None
    latest = selectors.latest_versions(model_ids=[model.pk], stages=stages)[model.pk]
    for version in latest:
        version.registered_model = model
    return {"model_versions": [model_version_json(version) for version in latest]}


def set_registered_model_tag(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    registry.registered_model_set_tag(
        actor=request.user, model=model, key=text(data, "key"), value=data.get("value", "")
    )


def delete_registered_model_tag(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    registry.registered_model_delete_tag(actor=request.user, model=model, key=text(data, "key"))


def set_alias(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    alias = text(data, "alias")
    # In MLflow's order: a bad alias, then a missing version (the service checks both again).
    registry.validate_alias(alias)
    REGISTERED_MODEL_ACCESS.require(request.user, model, "alias")
    version = selectors.model_version_get(model=model, version=text(data, "version"))
    registry.alias_set(actor=request.user, model=model, alias=alias, version=version)


def delete_alias(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    registry.alias_delete(actor=request.user, model=model, alias=text(data, "alias"))


def get_version_by_alias(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    alias = text(data, "alias")
    if alias.lower() == LATEST_ALIAS:
        newest = ModelVersion.objects.filter(registered_model=model).order_by("-version").values("version").first()
        if newest is None:
            raise does_not_exist(f"Latest version not found for model {model.shown_name}.")
        version = selectors.model_version_get(model=model, version=newest["version"])
    else:
        version = selectors.model_version_by_alias(model=model, alias=alias)
        if version is None:
            raise MlflowError(f"Registered model alias {alias} not found.")
    return {"model_version": model_version_json(version)}
