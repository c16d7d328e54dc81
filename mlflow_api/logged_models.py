"""MLflow 3's logged models (`/api/2.0/mlflow/logged-models/...`) and a run's outputs (`runs/outputs`), as the client
calls them when it logs and loads a model: thin adapters on loggedmodels.services, and the search over what the caller
may read."""

from django.db.models import F, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from accounts.models import User
from experiments.search import grammar
from experiments.search.comparisons import NUMERIC_LOOKUPS, string_q, time_of
from experiments.search.grammar import ATTRIBUTE, PARAM, TAG, Clause
from loggedmodels import selectors
from loggedmodels import services as models
from loggedmodels.access import LOGGED_MODEL_ACCESS
from loggedmodels.models import LoggedModel
from mlflow_api import entities, lookups
from mlflow_api import services as mlflow
from mlflow_api.errors import MlflowError, does_not_exist
from mlflow_api.fields import integer, pairs, run_id, strings, text
from mlflow_api.paging import page

SEARCH_MAX_RESULTS_DEFAULT = 100
SEARCH_MAX_RESULTS = 1000


def model_for(request, model_id: str, operation: str, *, allow_deleted: bool = False) -> LoggedModel:
    model = selectors.logged_model_get(user=request.user, model_id=model_id, allow_deleted=allow_deleted)
    if model is None:
        raise does_not_exist(f"Logged model with ID '{model_id}' not found.")
    LOGGED_MODEL_ACCESS.remember(request.user, model, model.role)
    LOGGED_MODEL_ACCESS.require(request.user, model, operation)
    return model


def _key_values(data, name: str) -> dict[str, str]:
    return {item.get("key"): item.get("value", "") for item in pairs(data, name)}


def _answer(model: LoggedModel) -> dict:
    return {"model": entities.logged_model_json(model)}


def create(request, data):
    project = lookups.project_for(
        user=request.user, experiment_id=text(data, "experiment_id"), operation="add_experiment"
    )
    source = text(data, "source_run_id", required=False)
    source_run = lookups.run_for(user=request.user, run_id=source, operation="retrieve") if source else None
    model = models.logged_model_create(
        actor=request.user,
        project=project,
        name=text(data, "name", required=False) or mlflow.generated_run_name(),
        model_type=text(data, "model_type", required=False, default=""),
        source_run=source_run,
        tags=_key_values(data, "tags"),
        params=_key_values(data, "params"),
    )
    return _answer(model)


def get(request, data, model_id):
    allow_deleted = str(data.get("allow_deleted", "")).lower() == "true"
    return _answer(model_for(request, model_id, "retrieve", allow_deleted=allow_deleted))


def finalize(request, data, model_id):
    model = model_for(request, model_id, "log")
    value = data.get("status")
    value = entities.MODEL_STATUS_NUMBERS.get(value, value)
    if value not in entities.FROM_MLFLOW_MODEL_STATUS:
        raise MlflowError(f"Invalid status {value!r}: one of LOGGED_MODEL_READY, LOGGED_MODEL_UPLOAD_FAILED.")
    model = models.logged_model_finalize(
        actor=request.user,
        model=model,
        status=entities.FROM_MLFLOW_MODEL_STATUS[value],
        message=text(data, "status_message", required=False, default=""),
    )
    return _answer(model)


def delete(request, data, model_id):
    models.logged_model_delete(actor=request.user, model=model_for(request, model_id, "destroy"))


def set_tags(request, data, model_id):
    models.logged_model_set_tags(
        actor=request.user, model=model_for(request, model_id, "log"), tags=_key_values(data, "tags")
    )


def delete_tag(request, data, model_id, tag_key):
    models.logged_model_delete_tag(actor=request.user, model=model_for(request, model_id, "log"), key=tag_key)


def log_params(request, data, model_id):
    models.logged_model_log_params(
        actor=request.user, model=model_for(request, model_id, "log"), params=_key_values(data, "params")
    )


def runs_outputs(request, data):
    run = lookups.run_for(user=request.user, run_id=run_id(data), operation="log")
    items = data.get("models") or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise MlflowError("Invalid value for parameter 'models': a list of {model_id, step} objects is required.")
    outputs = [
        (model_for(request, text(item, "model_id"), "retrieve"), integer(item, "step", default=0)) for item in items
    ]
    models.run_log_outputs(actor=request.user, run=run, outputs=outputs)


def runs_log_model(request, data):
    """The MLmodel metadata of a model the run logged, kept in its `mlflow.log-model.history` tag."""
    run = lookups.run_for(user=request.user, run_id=run_id(data), operation="log")
    mlflow.run_record_model(run=run, actor=request.user, model_json=data.get("model_json"))


# ---------------------------------------------------------------------------------------------------------------------
# Search
# ---------------------------------------------------------------------------------------------------------------------

STRING_ATTRIBUTES = {"name": "name", "model_id": "model_id", "model_type": "model_type", "source_run_id": "run_uuid"}
TIME_ATTRIBUTES = {
    "creation_timestamp": "created_at",
    "creation_time": "created_at",
    "last_updated_timestamp": "updated_at",
}
ORDER_ATTRIBUTES = {**STRING_ATTRIBUTES, **TIME_ATTRIBUTES, "status": "status"}


def _json_text(field: str, key: str) -> Cast:
    return Cast(KeyTextTransform(key, field), output_field=TextField())


def _keyed_q(queryset: QuerySet, field: str, clause: Clause, index: int) -> QuerySet:
    alias = f"_{field}_{index}"
    queryset = queryset.alias(**{alias: _json_text(field, clause.key)})
    if clause.comparator == "IS NULL":
        return queryset.filter(**{f"{alias}__isnull": True})
    if clause.comparator == "IS NOT NULL":
        return queryset.filter(**{f"{alias}__isnull": False})
    if clause.comparator not in grammar.STRING_COMPARATORS:
        raise MlflowError(f"Invalid comparator {clause.comparator!r} for {clause.kind} {clause.key!r}.")
    return queryset.filter(string_q(alias, clause))


def _status_q(clause: Clause) -> Q:
    values = clause.value if isinstance(clause.value, tuple) else (clause.value,)
    statuses = []
    for value in values:
        word = str(value).upper().removeprefix("LOGGED_MODEL_")
        if word not in entities.MODEL_STATUS_WORDS:
            raise MlflowError(f"Invalid status {value!r}: one of PENDING, READY, FAILED.")
        statuses.append(entities.MODEL_STATUS_WORDS[word])
    if clause.comparator in ("=", "IN"):
        return Q(status__in=statuses)
    if clause.comparator in ("!=", "NOT IN"):
        return ~Q(status__in=statuses)
    raise MlflowError(f"Invalid comparator {clause.comparator!r} for the status.")


def _clause(queryset: QuerySet, clause: Clause, index: int) -> QuerySet:
    if clause.kind == PARAM:
        return _keyed_q(queryset, "params", clause, index)
    if clause.kind == TAG:
        return _keyed_q(queryset, "tags", clause, index)
    if clause.kind != ATTRIBUTE:
        raise MlflowError("Logged models are searched by attributes, parameters and tags; metrics are not supported.")
    if clause.key == "status":
        return queryset.filter(_status_q(clause))
    if clause.key in STRING_ATTRIBUTES:
        field = STRING_ATTRIBUTES[clause.key]
        if field == "run_uuid":
            queryset, field = queryset.alias(run_uuid=F("source_run__run_uuid")), "run_uuid"
        if clause.comparator not in grammar.STRING_COMPARATORS | grammar.LIST_COMPARATORS:
            raise MlflowError(f"Invalid comparator {clause.comparator!r} for the attribute {clause.key!r}.")
        return queryset.filter(string_q(field, clause))
    if clause.key in TIME_ATTRIBUTES:
        field = TIME_ATTRIBUTES[clause.key]
        moment = time_of(clause)
        if clause.comparator == "!=":
            return queryset.exclude(**{field: moment})
        return queryset.filter(**{f"{field}__{NUMERIC_LOOKUPS[clause.comparator]}": moment})
    raise MlflowError(f"Invalid attribute key {clause.key!r} for searching logged models.")


def _ordering(terms) -> list:
    if not isinstance(terms, list) or not all(isinstance(term, dict) for term in terms):
        raise MlflowError("Invalid value for parameter 'order_by': a list of {field_name, ascending} is required.")
    ordering = []
    for term in terms:
        name = term.get("field_name")
        key = name.removeprefix("attributes.") if isinstance(name, str) else name
        if key not in ORDER_ATTRIBUTES:
            raise MlflowError(f"Invalid order_by field {name!r} for logged models.")
        field = F("source_run__run_uuid") if key == "source_run_id" else F(ORDER_ATTRIBUTES[key])
        ordering.append(field.asc() if term.get("ascending", True) is not False else field.desc())
    return ordering


def logged_models_search(
    *, user: User, experiment_ids: list[str], filter_string, order_by, max_results: int, page_token
) -> tuple[list[LoggedModel], str | None]:
    if not 1 <= max_results <= SEARCH_MAX_RESULTS:
        raise MlflowError(f"max_results must be between 1 and {SEARCH_MAX_RESULTS}.")
    if not experiment_ids:
        raise MlflowError("Missing value for required parameter 'experiment_ids'.")
    projects = [lookups.project_for(user=user, experiment_id=eid, operation="retrieve") for eid in experiment_ids]
    queryset = selectors.logged_model_list(user=user, project_ids=[p.pk for p in projects if p.pk is not None])
    for index, clause in enumerate(grammar.parse_filter(filter_string)):
        queryset = _clause(queryset, clause, index)
    ordering = [*_ordering(order_by or []), F("created_at").desc(), F("pk").desc()]
    return page(queryset.order_by(*ordering), max_results=max_results, page_token=page_token)


def search(request, data):
    found, token = logged_models_search(
        user=request.user,
        experiment_ids=strings(data, "experiment_ids"),
        filter_string=text(data, "filter", required=False),
        order_by=data.get("order_by"),
        max_results=integer(data, "max_results", default=SEARCH_MAX_RESULTS_DEFAULT),
        page_token=text(data, "page_token", required=False),
    )
    answer = {"models": [entities.logged_model_json(model) for model in found]}
    if token:
        answer["next_page_token"] = token
    return answer
