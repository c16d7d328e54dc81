"""MLflow's searches of the model registry (`registered-models/search`, `model-versions/search`): the search
grammar of experiments.search over the models and versions the caller may see, paged as MLflow pages them."""

from django.db.models import Exists, F, OuterRef, Q, QuerySet

from accounts.models import User
from experiments.search import grammar
from experiments.search.comparisons import NUMERIC_LOOKUPS, string_q
from experiments.search.grammar import ATTRIBUTE, TAG, Clause
from mlflow_api.errors import MlflowError
from mlflow_api.fields import integer, text
from mlflow_api.model_registry import model_version_json, registered_model_json, string_list
from mlflow_api.paging import page
from modelregistry import selectors
from modelregistry.models import (
    ModelVersionTag,
    RegisteredModelTag,
)

# ---------------------------------------------------------------------------------------------------------------------
# Searches
# ---------------------------------------------------------------------------------------------------------------------

STRING_ATTRIBUTE_COMPARATORS = {"=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"}
TAG_COMPARATORS = {"=", "!=", "LIKE", "ILIKE"}

MODELS_MAX_RESULTS_DEFAULT = 100
MODELS_MAX_RESULTS = 1000
VERSIONS_MAX_RESULTS_DEFAULT = 10_000
VERSIONS_MAX_RESULTS = 200_000
IS_PROMPT_TAG = "mlflow.prompt.is_prompt"


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


def _search_fields(data, default: int, most: int) -> dict:
    """The filter, page size, order and page token that both registry searches take, read as MLflow reads them."""
    return {
        "filter_string": text(data, "filter", required=False),
        "max_results": _max_results(data, default, most),
        "order_by": string_list(data, "order_by"),
        "page_token": text(data, "page_token", required=False),
    }


def search_registered_models(request, data):
    found, token = registered_models_search(
        user=request.user, **_search_fields(data, MODELS_MAX_RESULTS_DEFAULT, MODELS_MAX_RESULTS)
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
        user=request.user, **_search_fields(data, VERSIONS_MAX_RESULTS_DEFAULT, VERSIONS_MAX_RESULTS)
    )
    # MLflow's search answers carry no aliases on versions; ours do, for the caller who reads them.
    answer = {"model_versions": [model_version_json(version) for version in found]}
    if token:
        answer["next_page_token"] = token
    return answer
