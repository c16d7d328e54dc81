"""MLflow's model registry (`/api/2.0/mlflow/registered-models/...` and `model-versions/...`), as the client calls them
for `register_model`, aliases, stages and `load_model("models:/<name>@<alias>")`: thin adapters on
modelregistry.services and modelregistry.selectors, answering MLflow's shapes.

Names resolve among the models of the projects the caller may see (modelregistry.selectors); `<experiment_id>:<name>`
names one model where a bare name is shared. A model created without a qualified name goes to the caller's Default
project (experiment "0") and follows its first version's source to that source's project. A version's source is a
logged model (`models:/m-<id>`, MLflow 3), a run's folder of files (`runs:/<run_id>/<path>` or the
`mlflow-artifacts:/` URI of one, MLflow 2, copied into a logged model) or another version (`models:/<name>/<version>`).
"""

from urllib.parse import urlsplit

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import User
from experiments.search import grammar
from experiments.search.comparisons import NUMERIC_LOOKUPS, string_q
from experiments.search.grammar import ATTRIBUTE, TAG, Clause
from loggedmodels import selectors as loggedmodels
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel
from mlflow_api import entities, lookups
from mlflow_api.errors import RESOURCE_ALREADY_EXISTS, MlflowError, does_not_exist
from mlflow_api.fields import integer, pairs, strings, text
from mlflow_api.paging import page
from modelregistry import selectors
from modelregistry import services as registry
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)
from projects.models import Project

MODELS_MAX_RESULTS_DEFAULT = 100
MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS_DEFAULT = 10_000
VERSIONS_MAX_RESULTS = 200_000
LATEST_ALIAS = "latest"
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"

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


def _key_values(data, name: str) -> dict[str, str]:
    return {item.get("key"): item.get("value", "") for item in pairs(data, name)}


def _list(data, name: str) -> list[str]:
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
            tags=_key_values(data, "tags"),
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
    stages = [registry.canonical_stage(stage) for stage in _list(data, "stages")] or None
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


# ---------------------------------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------------------------------


def _logged_model(request, model_id: str) -> LoggedModel:
    found = loggedmodels.logged_model_get(user=request.user, model_id=model_id, allow_deleted=True)
    if found is None:
        raise does_not_exist(f"Logged model with ID '{model_id}' not found.")
    LOGGED_MODEL_ACCESS.remember(request.user, found, found.role)
    LOGGED_MODEL_ACCESS.require(request.user, found, "retrieve")
    return found


def _invalid_source(source: str) -> MlflowError:
    return MlflowError(
        f"Invalid model version source: '{source}'. Registry registers the files it stores: a logged model "
        "('models:/m-<id>'), a folder of a run's artifacts ('runs:/<run_id>/<path>' or its 'mlflow-artifacts:/' URI) "
        "or another model version ('models:/<name>/<version>')."
    )


def _run_folder(request, source: str, run_id: str, path: str):
    """A run's folder of files: the logged model of that run and name if the client logged one, else a copy."""
    run = lookups.run_for(user=request.user, run_id=run_id, operation="retrieve")
    path = path.strip("/")
    if not path or ".." in path.split("/"):
        raise _invalid_source(source)
    name = path.rsplit("/", 1)[-1]
    return run, registry.logged_model_from_run_files(actor=request.user, run=run, path=path, name=name)


def resolve_source(request, source: str, model_id: str | None) -> tuple[LoggedModel, object]:
    """(logged model, run or None) whose files the source URI names, each of which the caller may read."""
    if model_id:
        logged = _logged_model(request, model_id)
        if source not in (f"models:/{model_id}", entities.logged_model_artifact_uri(logged)) and not source.startswith(
            entities.logged_model_artifact_uri(logged) + "/"
        ):
            raise MlflowError(
                f"Invalid model version source: '{source}'. The model_id request parameter must identify the "
                "resource that contains the source."
            )
        return logged, logged.source_run
    parts = urlsplit(source)
    if parts.netloc or ".." in parts.path.split("/"):
        raise _invalid_source(source)
    path = parts.path.lstrip("/")
    if parts.scheme == "models":
        name, _, suffix = path.partition("/")
        if not suffix and name.startswith("m-"):
            logged = _logged_model(request, name)
            return logged, logged.source_run
        model = model_for(request, name, "retrieve")
        version = selectors.model_version_get(model=model, version=suffix)
        if version.logged_model is None:
            raise _invalid_source(source)
        return _logged_model(request, version.model_id), version.source_run
    if parts.scheme == "runs":
        run_id, _, folder = path.partition("/")
        run, logged = _run_folder(request, source, run_id, folder)
        return logged, run
    if parts.scheme == "mlflow-artifacts":
        segments = path.split("/", 3)
        if len(segments) >= 3 and segments[1] == "models":
            logged = _logged_model(request, segments[2])
            if str(logged.project_id) != segments[0]:
                raise _invalid_source(source)
            return logged, logged.source_run
        if len(segments) == 4 and segments[2] == "artifacts":
            run, logged = _run_folder(request, source, segments[1], segments[3])
            if str(run.project_id) != segments[0]:
                raise _invalid_source(source)
            return logged, run
    raise _invalid_source(source)


def create_model_version(request, data):
    model = model_for(request, text(data, "name"), "retrieve")
    if not model.placed_by_default:  # Refused before any file is copied; a model yet to move is checked where it goes.
        REGISTERED_MODEL_ACCESS.require(request.user, model, "create_version")
    source = text(data, "source")
    logged, source_run = resolve_source(request, source, text(data, "model_id", required=False))
    run_id = text(data, "run_id", required=False)
    if run_id:
        source_run = lookups.run_for(user=request.user, run_id=run_id, operation="retrieve")
    version = registry.model_version_create(
        actor=request.user,
        model=model,
        logged_model=logged,
        source=source,
        storage_location=entities.logged_model_artifact_uri(logged),
        source_run=source_run,
        run_uuid=run_id or (source_run.run_uuid if source_run is not None else ""),
        run_link=text(data, "run_link", required=False, default=""),
        description=text(data, "description", required=False, default=""),
        tags=_key_values(data, "tags"),
    )
    version = selectors.model_version_get(model=model, version=version.version)
    return {"model_version": model_version_json(version)}


def get_model_version(request, data):
    return {"model_version": model_version_json(version_for(request, data, "retrieve"))}


def update_model_version(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_update(
        actor=request.user, version=version, description=text(data, "description", required=False, default="")
    )
    return {"model_version": model_version_json(version)}


def delete_model_version(request, data):
    registry.model_version_delete(actor=request.user, version=version_for(request, data, "retrieve"))


def transition_stage(request, data):
    version = version_for(request, data, "retrieve")
    archive = data.get("archive_existing_versions", False)
    archive = archive if isinstance(archive, bool) else str(archive).lower() == "true"
    registry.model_version_transition_stage(
        actor=request.user, version=version, stage=text(data, "stage"), archive_existing_versions=archive
    )
    return {"model_version": model_version_json(version)}


def get_download_uri(request, data):
    return {"artifact_uri": version_for(request, data, "retrieve").storage_location}


def set_model_version_tag(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_set_tag(
        actor=request.user, version=version, key=text(data, "key"), value=data.get("value", "")
    )


def delete_model_version_tag(request, data):
    version = version_for(request, data, "retrieve")
    registry.model_version_delete_tag(actor=request.user, version=version, key=text(data, "key"))


# ---------------------------------------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------------------------------------

STRING_ATTRIBUTE_COMPARATORS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
TAG_COMPARATORS = {"=", "!=", "LIKE", "ILIKE"}


def _tag_q(tags: QuerySet, owner: str, clause: Clause) -> Q:
    if clause.comparator not in TAG_COMPARATORS:
        raise MlflowError(f"Invalid comparator for tag: {clause.comparator}")
    matching = tags.filter(**{owner: OuterRef("pk")}, key=clause.key).filter(string_q("value", clause))
    return Q(Exists(matching))


def _prompts_wanted(clauses: list[Clause]) -> tuple[bool, list[Clause]]:
    """Whether a search asks for prompts (MLflow keeps its prompts as models tagged `mlflow.prompt.is_prompt`), and
    its other clauses. Without `tags.mlflow.prompt.is_prompt = 'true'`, which MLflow's client never sends for models,
    prompts are left out, as MLflow's server does: the client adds `!= 'true'` to each search of models."""
    wanted, rest = False, []
    for clause in clauses:
        if clause.kind == TAG and clause.key == IS_PROMPT_TAG:
            value = str(clause.value).lower()
            wanted = (clause.comparator == "=" and value == "true") or (clause.comparator == "!=" and value == "false")
        else:
            rest.append(clause)
    return wanted, rest


def _prompt_q(field: str, wanted: bool) -> Q:
    """Models (or versions of models) tagged as prompts, or all others: one uncorrelated subquery, computed once
    rather than for every row a search sorts."""
    prompts = RegisteredModelTag.objects.filter(key=IS_PROMPT_TAG, value__iexact="true").values("registered_model_id")
    prompt = Q(**{f"{field}__in": prompts})
    return prompt if wanted else ~prompt


def _max_results(data, default: int, limit: int) -> int:
    max_results = integer(data, "max_results", default=default)
    if not 1 <= max_results <= limit:
        raise MlflowError(
            f"Invalid value for request parameter max_results. It must be at most {limit}, but got value {max_results}"
        )
    return max_results


def _ordering(terms: list[str], fields: dict, defaults: list) -> list:
    ordering, seen = [], set()
    for term in terms:
        words = term.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].upper() not in ("ASC", "DESC")):
            raise MlflowError(f"Invalid order_by clause '{term}'.")
        key = words[0].removeprefix("attributes.").removeprefix("attribute.").strip("`")
        if key not in fields:
            raise MlflowError(f"Invalid order by key '{key}' specified. Valid keys are {sorted(set(fields))}")
        field = fields[key]
        if field in seen:
            raise MlflowError(f"`order_by` contains duplicate fields: {terms}")
        seen.add(field)
        descending = len(words) == 2 and words[1].upper() == "DESC"
        ordering.append(F(field).desc() if descending else F(field).asc())
    for field, descending in defaults:
        if field not in seen:
            ordering.append(F(field).desc() if descending else F(field).asc())
    return ordering


def _page_of_rows(queryset: QuerySet, *, max_results: int, page_token) -> tuple[list, str | None]:
    """One page of a search: the page's ids sorted and cut first, over narrow rows, then those rows read whole with
    what they show. A sort over every matching row whole (joined and wide) costs several times more."""
    ids, token = page(queryset.values_list("pk", flat=True), max_results=max_results, page_token=page_token)
    rows = queryset.order_by().in_bulk(ids)
    return [rows[pk] for pk in ids], token


MODEL_ORDER_FIELDS = {"name": "name", "timestamp": "updated_at", "last_updated_timestamp": "updated_at"}


def registered_models_search(*, user: User, filter_string, max_results: int, order_by: list[str], page_token):
    prompts, clauses = _prompts_wanted(grammar.parse_filter(filter_string))
    models = selectors.registered_model_list(user=user, with_role=False).filter(_prompt_q("pk", prompts))
    for clause in clauses:
        if clause.kind == ATTRIBUTE:
            if clause.key != "name":
                raise MlflowError(f"Invalid attribute name: {clause.key}")
            if clause.comparator not in STRING_ATTRIBUTE_COMPARATORS:
                raise MlflowError(f"Invalid comparator for attribute: {clause.comparator}")
            models = models.filter(string_q("name", clause))
        elif clause.kind == TAG:
            models = models.filter(_tag_q(RegisteredModelTag.objects, "registered_model", clause))
        else:
            raise MlflowError(f"Invalid token type: {clause.kind}")
    ordering = _ordering(order_by, MODEL_ORDER_FIELDS, [("name", False), ("pk", False)])
    found, token = _page_of_rows(models.order_by(*ordering), max_results=max_results, page_token=page_token)
    return selectors.versions_of(models=found, user=user), token


def search_registered_models(request, data):
    found, token = registered_models_search(
        user=request.user,
        filter_string=text(data, "filter", required=False),
        max_results=_max_results(data, MODELS_MAX_RESULTS_DEFAULT, MODELS_MAX_RESULTS),
        order_by=_list(data, "order_by"),
        page_token=text(data, "page_token", required=False),
    )
    answer = {"registered_models": [registered_model_json(model, model.latest) for model in found]}
    if token:
        answer["next_page_token"] = token
    return answer


VERSION_ORDER_FIELDS = {
    "name": "registered_model__name",
    "version_number": "version",
    "creation_timestamp": "created_at",
    "last_updated_timestamp": "updated_at",
}
VERSION_STRING_ATTRIBUTES = {"name": "registered_model__name", "run_id": "run_uuid", "source_path": "source"}


def _version_clause(versions: QuerySet, clause: Clause) -> QuerySet:
    if clause.kind == TAG:
        return versions.filter(_tag_q(ModelVersionTag.objects, "model_version", clause))
    if clause.kind != ATTRIBUTE:
        raise MlflowError(f"Invalid token type: {clause.kind}")
    if clause.key == "version_number":
        if clause.comparator not in grammar.NUMERIC_COMPARATORS or not isinstance(clause.value, float):
            raise MlflowError(f"Invalid value for numeric attribute 'version_number': {clause.value!r}")
        if clause.comparator == "!=":
            return versions.exclude(version=int(clause.value))
        return versions.filter(**{f"version__{NUMERIC_LOOKUPS[clause.comparator]}": int(clause.value)})
    if clause.key not in VERSION_STRING_ATTRIBUTES:
        raise MlflowError(f"Invalid attribute name: {clause.key}")
    if clause.comparator not in STRING_ATTRIBUTE_COMPARATORS or (
        clause.comparator in grammar.LIST_COMPARATORS and clause.key == "source_path"
    ):
        raise MlflowError(f"Invalid comparator for attribute: {clause.comparator}")
    if clause.key == "name" and clause.comparator == "=" and isinstance(clause.value, str):
        project_id, bare = selectors.split_name(clause.value)
        if project_id is not None:
            return versions.filter(registered_model__project_id=project_id, registered_model__name=bare)
    return versions.filter(string_q(VERSION_STRING_ATTRIBUTES[clause.key], clause))


def model_versions_search(*, user: User, filter_string, max_results: int, order_by: list[str], page_token):
    prompts, clauses = _prompts_wanted(grammar.parse_filter(filter_string))
    versions = selectors.model_version_list(user=user, with_role=False).filter(
        _prompt_q("registered_model_id", prompts)
    )
    for clause in clauses:
        versions = _version_clause(versions, clause)
    defaults = [("updated_at", True), ("registered_model__name", False), ("version", True), ("pk", True)]
    ordering = _ordering(order_by, VERSION_ORDER_FIELDS, defaults)
    found, token = _page_of_rows(versions.order_by(*ordering), max_results=max_results, page_token=page_token)
    models = {version.registered_model_id: version.registered_model for version in found}
    selectors.show_names(user=user, models=list(models.values()))
    return found, token


def search_model_versions(request, data):
    found, token = model_versions_search(
        user=request.user,
        filter_string=text(data, "filter", required=False),
        max_results=_max_results(data, VERSIONS_MAX_RESULTS_DEFAULT, VERSIONS_MAX_RESULTS),
        order_by=_list(data, "order_by"),
        page_token=text(data, "page_token", required=False),
    )
    # MLflow's search answers carry no aliases on versions; ours do, for the caller who reads them.
    answer = {"model_versions": [model_version_json(version) for version in found]}
    if token:
        answer["next_page_token"] = token
    return answer
