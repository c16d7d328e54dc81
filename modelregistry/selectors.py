"""Reads of the model registry that other code uses: names resolved as a caller sees them, models and versions with what
their answers show (tags, aliases, the latest version of each stage), a fixed number of queries whatever the rows.

A name resolves among the models of the projects the caller may see, and nowhere else: a model in a project they may
not see (or were invited to and have not accepted) is, to them, no model at all. A bare name that two of those models
share resolves to neither (AmbiguousModelName names both); `<project id>:<name>` addresses one.
"""

from collections.abc import Iterable

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Count, OuterRef, Prefetch, QuerySet, Subquery, prefetch_related_objects

from accounts.models import User
from modelregistry import statements
from modelregistry.models import (
    QUALIFIER_SEPARATOR,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelQuerySet,
)
from projects.models import Project, role_from_memberships


class RegisteredModelNotFound(ObjectDoesNotExist):
    """No registered model of this name that the caller may see."""


class ModelVersionNotFound(ObjectDoesNotExist):
    """No such version of the model."""


class AmbiguousModelName(ValidationError):
    """A bare name that several models the caller sees share: the message names each by its qualified name."""


def _aliases() -> Prefetch:
    return Prefetch(
        "aliases",
        queryset=RegisteredModelAlias.objects.select_related("model_version", "set_by").order_by("alias"),
    )


def _with_shown(models: QuerySet) -> QuerySet:
    """What a model's answer shows beside its columns: its tags and aliases (two queries for any number of models)."""
    return models.select_related("creator").prefetch_related("tags", _aliases())


def _version_aliases() -> Prefetch:
    return Prefetch("aliases", queryset=RegisteredModelAlias.objects.select_related("set_by").order_by("alias"))


def split_name(name: str) -> tuple[int | None, str]:
    """(project id, name) of a qualified name `<project id>:<name>`; (None, name) for a bare one."""
    qualifier, separator, rest = name.partition(QUALIFIER_SEPARATOR)
    if separator and qualifier.isascii() and qualifier.isdigit() and len(qualifier) < 19 and rest:
        return int(qualifier), rest
    return None, name


def registered_model_resolve(*, user: User, name: str, shown: bool = True) -> RegisteredModel:
    """The model that `name` (bare or qualified) addresses for `user`, annotated with their `role` and `shown_name`;
    `shown` reads with it what its answer shows (tags and aliases)."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("Missing value for required parameter 'name'.")
    project_id, bare = split_name(name)
    if project_id is None and role_from_memberships(user):
        # The call that names a model by its bare name, as MLflow's client always does: a prepared statement.
        found = statements.models_named(user, bare)
        if shown:
            prefetch_related_objects(found, "creator", "tags", _aliases())
    else:
        candidates = RegisteredModel.objects.visible_to(user).filter(name=bare)
        if project_id is not None:
            candidates = candidates.filter(project_id=project_id)
        if shown:
            candidates = _with_shown(candidates)
        found = list(candidates.order_by("project_id")[: statements.NAMED_MAX])
    if not found:
        raise RegisteredModelNotFound(f"Registered Model with name={name} not found")
    if len(found) > 1:
        names = ", ".join(repr(model.qualified_name) for model in found)
        raise AmbiguousModelName(
            f"The name {name!r} matches {len(found)} registered models you can see: {names}. Name one as "
            f"'<experiment_id>{QUALIFIER_SEPARATOR}<name>'."
        )
    model = found[0]
    # Qualified when asked so, or when another model of its name is visible (only the qualified name is unambiguous).
    model.shown_name = name if project_id is not None else bare
    return model


def shared_names(*, user: User, names: Iterable[str]) -> set[str]:
    """Those of `names` that more than one model `user` may see bears: they are shown qualified."""
    names = set(names)
    if not names:
        return set()
    rows = (
        RegisteredModel.objects.filter(project__in=Project.objects.where_visible_to(user), name__in=names)
        .order_by()
        .values("name")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .values_list("name", flat=True)
    )
    return set(rows)


def show_names(*, user: User, models: list[RegisteredModel]) -> list[RegisteredModel]:
    """Set `shown_name` on each model: qualified where `user` sees another model of its name. One query."""
    shared = shared_names(user=user, names=[model.name for model in models])
    for model in models:
        model.shown_name = model.qualified_name if model.name in shared else model.name
    return models


def registered_model_list(
    *, user: User, project_ids: list[int] | None = None, with_role: bool = True
) -> RegisteredModelQuerySet:
    """The models `user` may see (of these projects only, if given), with their tags and aliases, and `role` (the
    caller's role in each one's project) unless `with_role` is false: a role computed for every row a search sorts
    costs more than the search."""
    models = RegisteredModel.objects.filter(project__in=Project.objects.where_visible_to(user))
    if with_role:
        models = models.with_role(user)
    if project_ids is not None:
        models = models.filter(project_id__in=project_ids)
    return _with_shown(models)


def registered_model_get(*, user: User, pk: int) -> RegisteredModel | None:
    """Model `pk` with `user`'s role in its project (None: no access), among all rows, so that one the caller may not
    see answers 403 rather than 404; None if there is none."""
    return _with_shown(RegisteredModel.objects.with_role(user)).filter(pk=pk).first()


def _versions_shown(versions: QuerySet) -> QuerySet:
    return versions.select_related("registered_model", "creator").prefetch_related("tags", _version_aliases())


def _with_version_role(versions: QuerySet, user: User) -> QuerySet:
    """Annotate each version with `role`, the caller's role in its model's project (None: no access)."""
    roles = Project.objects.with_role(user).filter(pk=OuterRef("registered_model__project_id")).values("role")[:1]
    return versions.annotate(role=Subquery(roles))


def latest_versions(*, model_ids: list[int], stages: list[str] | None = None) -> dict[int, list[ModelVersion]]:
    """The latest version of each stage (of `stages` only, if given) of each model, by version number; one query, each
    version found through the (model, stage, version) index."""
    if not model_ids:
        return {}
    newest = (
        ModelVersion.objects.filter(registered_model_id=OuterRef("registered_model_id"), stage=OuterRef("stage"))
        .order_by("-version")
        .values("version")[:1]
    )
    versions = ModelVersion.objects.filter(registered_model_id__in=model_ids, version=Subquery(newest))
    if stages is not None:
        versions = versions.filter(stage__in=stages)
    latest: dict[int, list[ModelVersion]] = {model_id: [] for model_id in model_ids}
    for version in _versions_shown(versions).order_by("registered_model_id", "version"):
        latest[version.registered_model_id].append(version)
    return latest


def model_version_get(*, model: RegisteredModel, version) -> ModelVersion:
    """Version `version` (a number, or its text) of `model`, with its tags and aliases."""
    number = _version_number(version)
    found = _versions_shown(ModelVersion.objects.filter(registered_model=model, version=number)).first()
    if found is None:
        # A model found by name shows the name its caller used (model_get); one found by id, its own.
        name = getattr(model, "shown_name", model.name)
        raise ModelVersionNotFound(f"Model Version (name={name}, version={version}) not found")
    found.registered_model = model
    return found


def model_version_by_alias(*, model: RegisteredModel, alias: str) -> ModelVersion | None:
    """The version that `alias` points at, or None."""
    found = statements.version_by_alias(model.pk, alias)
    if found is not None:
        prefetch_related_objects([found], "creator", "tags", _version_aliases())
        found.registered_model = model
    return found


def model_version_list(*, user: User, project_ids: list[int] | None = None, with_role: bool = True) -> QuerySet:
    """The versions of the models `user` may see (of these projects only, if given), with their tags and aliases and
    `role`, the caller's role in their project, unless `with_role` is false (registered_model_list says why)."""
    versions = ModelVersion.objects.filter(registered_model__project__in=Project.objects.where_visible_to(user))
    if project_ids is not None:
        versions = versions.filter(registered_model__project_id__in=project_ids)
    versions = _versions_shown(versions)
    return _with_version_role(versions, user) if with_role else versions


def model_version_get_by_pk(*, user: User, pk: int) -> ModelVersion | None:
    """Version `pk` with `role`, the caller's role in its model's project (None: no access), among all rows."""
    return _with_version_role(_versions_shown(ModelVersion.objects.filter(pk=pk)), user).first()


def _version_number(version) -> int:
    text = str(version).strip()
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise ValidationError(f"Parameter 'version' must be an integer, got '{version}'.")
    return int(text)


def versions_of(*, models: list[RegisteredModel], user: User) -> list[RegisteredModel]:
    """The models with `shown_name` and `latest` (latest_versions) set: what search answers show."""
    show_names(user=user, models=models)
    latest = latest_versions(model_ids=[model.pk for model in models])
    for model in models:
        model.latest = latest.get(model.pk, [])
        for version in model.latest:
            version.registered_model = model
    return models


def model_version_list_of(*, model: RegisteredModel) -> QuerySet:
    """Every version of `model`, newest first, with its tags, aliases, creator and the run it came from (if it is
    still there)."""
    return (
        _versions_shown(ModelVersion.objects.filter(registered_model=model))
        .select_related("source_run")
        .order_by("-version")
    )
