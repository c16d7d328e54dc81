"""The registry's rules, against the database: who may do what (the access table, by role), version numbers, the
project a model lives in, names that resolve only among what the caller sees, and the record, mail and signal of an
alias move."""

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.tests.factories import UserFactory
from experiments.tests.factories import ExperimentFactory
from loggedmodels.tests.factories import LoggedModelFactory
from modelregistry import selectors, services
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import AliasChange, ModelStage, ModelVersion, RegisteredModel, RegisteredModelAlias
from modelregistry.signals import alias_moved
from modelregistry.tests.factories import AliasFactory, ModelVersionFactory, RegisteredModelFactory
from projects.models import LifecycleStage
from projects.tests.factories import ProjectFactory, ProjectMembershipFactory

pytestmark = pytest.mark.django_db

# Operation -> the roles that may do it, written out (never derived from the table under test).
ACCESS = {
    "retrieve": {"viewer", "editor", "maintainer", "owner"},
    "create": {"editor", "maintainer", "owner"},
    "create_version": {"editor", "maintainer", "owner"},
    "update": {"editor", "maintainer", "owner"},
    "tag": {"editor", "maintainer", "owner"},
    "alias": {"maintainer", "owner"},
    "stage": {"maintainer", "owner"},
    "rename": {"maintainer", "owner"},
    "destroy": {"maintainer", "owner"},
    "destroy_version": {"maintainer", "owner"},
}


@pytest.mark.parametrize("operation", sorted(ACCESS))
def test_the_access_table_by_role(operation):
    assert set(REGISTERED_MODEL_ACCESS.roles_for(operation)) == ACCESS[operation]
    assert set(REGISTERED_MODEL_ACCESS.minimums) == set(ACCESS)


def _member(project, role):
    return project.owner if role == "owner" else ProjectMembershipFactory(project=project, role=role).user


def _create_version(actor, model, logged=None, **extra):
    logged = logged or LoggedModelFactory(project=model.project)
    return services.model_version_create(
        actor=actor,
        model=model,
        logged_model=logged,
        source=f"models:/{logged.model_id}",
        storage_location=f"mlflow-artifacts:/{logged.project_id}/models/{logged.model_id}/artifacts",
        **extra,
    )


# ---------------------------------------------------------------------------------------------------------------------
# Models and versions
# ---------------------------------------------------------------------------------------------------------------------


def test_versions_count_from_one_and_a_deleted_number_is_never_given_again():
    model = RegisteredModelFactory()
    owner = model.project.owner
    first, second = _create_version(owner, model), _create_version(owner, model)
    assert (first.version, second.version) == (1, 2)

    services.model_version_delete(actor=owner, version=second)
    assert _create_version(owner, model).version == 3
    assert list(ModelVersion.objects.filter(registered_model=model).values_list("version", flat=True)) == [1, 3]


def test_a_name_is_unique_within_a_project_only():
    project, other = ProjectFactory(), ProjectFactory()
    services.registered_model_create(actor=project.owner, project=project, name="churn")
    with pytest.raises(services.ModelNameTaken):
        services.registered_model_create(actor=project.owner, project=project, name="churn")
    services.registered_model_create(actor=other.owner, project=other, name="churn")
    assert RegisteredModel.objects.filter(name="churn").count() == 2


@pytest.mark.parametrize("name", ["", " ", "a/b", "a:b", "..", " padded", "line\nbreak"])
def test_a_name_mlflow_refuses_is_refused(name):
    project = ProjectFactory()
    with pytest.raises(ValidationError):
        services.registered_model_create(actor=project.owner, project=project, name=name)
    assert not RegisteredModel.objects.exists()


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("editor", True), ("maintainer", True)])
def test_editors_create_models(role, allowed):
    project = ProjectFactory()
    actor = _member(project, role)
    if allowed:
        services.registered_model_create(actor=actor, project=project, name="m")
    else:
        with pytest.raises(PermissionDenied):
            services.registered_model_create(actor=actor, project=project, name="m")
    assert RegisteredModel.objects.exists() is allowed


def test_no_model_is_created_in_a_deleted_project():
    project = ProjectFactory(lifecycle_stage=LifecycleStage.DELETED)
    with pytest.raises(ValidationError):
        services.registered_model_create(actor=project.owner, project=project, name="m")


def test_a_model_placed_by_default_follows_its_first_versions_source():
    user = UserFactory()
    default, team = ProjectFactory(owner=user, name="Default"), ProjectFactory(owner=user)
    model = services.registered_model_create(actor=user, project=default, name="m", placed_by_default=True)

    version = _create_version(user, model, LoggedModelFactory(project=team))

    model.refresh_from_db()
    assert (model.project_id, model.placed_by_default, version.version) == (team.pk, False, 1)
    # From then on it stays: a source elsewhere is refused.
    with pytest.raises(ValidationError, match="must be in its model's experiment"):
        _create_version(user, model, LoggedModelFactory(project=default))


def test_a_model_follows_its_source_only_where_its_creator_may_create_models():
    user = UserFactory()
    default = ProjectFactory(owner=user)
    shared = ProjectMembershipFactory(user=user, role="viewer").project
    model = services.registered_model_create(actor=user, project=default, name="m", placed_by_default=True)
    with pytest.raises(PermissionDenied):
        _create_version(user, model, LoggedModelFactory(project=shared))
    model.refresh_from_db()
    assert (model.project_id, model.last_version) == (default.pk, 0)


def test_a_version_whose_source_is_in_another_project_is_refused():
    model = RegisteredModelFactory()
    elsewhere = LoggedModelFactory(project=ProjectFactory(owner=model.project.owner))
    with pytest.raises(ValidationError):
        _create_version(model.project.owner, model, elsewhere)
    assert not ModelVersion.objects.exists()


def test_a_version_keeps_its_run_and_model_ids_when_the_run_goes():
    model = RegisteredModelFactory()
    run = ExperimentFactory(owner=model.project.owner, project=model.project)
    version = _create_version(model.project.owner, model, source_run=run)
    run.delete()
    version.refresh_from_db()
    assert (version.source_run_id, version.run_uuid, version.model_id) == (None, run.run_uuid, version.model_id)
    assert version.logged_model is not None


def test_transition_archives_the_others_in_the_stage_when_asked():
    model = RegisteredModelFactory()
    owner = model.project.owner
    first, second = ModelVersionFactory(registered_model=model), ModelVersionFactory(registered_model=model)
    services.model_version_transition_stage(actor=owner, version=first, stage="production")
    services.model_version_transition_stage(
        actor=owner, version=second, stage="Production", archive_existing_versions=True
    )
    first.refresh_from_db()
    assert (first.stage, second.stage) == (ModelStage.ARCHIVED, ModelStage.PRODUCTION)
    with pytest.raises(ValidationError, match="Invalid Model Version stage: shipped"):
        services.model_version_transition_stage(actor=owner, version=first, stage="shipped")
    with pytest.raises(ValidationError, match="not an Active stage"):
        services.model_version_transition_stage(
            actor=owner, version=first, stage="None", archive_existing_versions=True
        )


def test_latest_versions_is_the_newest_of_each_stage():
    model = RegisteredModelFactory()
    versions = [ModelVersionFactory(registered_model=model, stage=stage) for stage in ["None", "Staging", "None"]]
    latest = selectors.latest_versions(model_ids=[model.pk])[model.pk]
    assert [(v.version, v.stage) for v in latest] == [(2, "Staging"), (3, "None")]
    staging = selectors.latest_versions(model_ids=[model.pk], stages=["Staging"])[model.pk]
    assert [v.pk for v in staging] == [versions[1].pk]


# ---------------------------------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------------------------------


def test_a_name_resolves_only_among_the_projects_the_caller_sees():
    model = RegisteredModelFactory(name="churn")
    stranger = UserFactory()
    with pytest.raises(selectors.RegisteredModelNotFound):
        selectors.registered_model_resolve(user=stranger, name="churn")
    with pytest.raises(selectors.RegisteredModelNotFound):
        selectors.registered_model_resolve(user=stranger, name=f"{model.project_id}:churn")
    # An invitation not accepted yet shows nothing either.
    from projects.tests.factories import ProjectInvitationFactory

    ProjectInvitationFactory(project=model.project, invitee=stranger)
    with pytest.raises(selectors.RegisteredModelNotFound):
        selectors.registered_model_resolve(user=stranger, name="churn")
    # An expired membership neither.
    ProjectMembershipFactory(project=model.project, user=stranger, expires_at="2000-01-01T00:00:00Z")
    with pytest.raises(selectors.RegisteredModelNotFound):
        selectors.registered_model_resolve(user=stranger, name="churn")


def test_a_bare_name_two_visible_models_share_is_ambiguous_and_a_qualified_one_is_not():
    user = UserFactory()
    mine = RegisteredModelFactory(name="churn", project=ProjectFactory(owner=user))
    shared = RegisteredModelFactory(name="churn")
    ProjectMembershipFactory(project=shared.project, user=user, role="viewer")

    with pytest.raises(selectors.AmbiguousModelName) as refused:
        selectors.registered_model_resolve(user=user, name="churn")
    # Named in the order of their projects: `mine`'s was made first.
    assert refused.value.messages == [
        f"The name 'churn' matches 2 registered models you can see: '{mine.project_id}:churn', "
        f"'{shared.project_id}:churn'. Name one as '<experiment_id>:<name>'."
    ]
    found = selectors.registered_model_resolve(user=user, name=f"{shared.project_id}:churn")
    assert (found.pk, found.role, found.shown_name) == (shared.pk, "viewer", f"{shared.project_id}:churn")
    assert selectors.shared_names(user=user, names=["churn", "other"]) == {"churn"}
    # The other user sees one only: the bare name is theirs.
    assert selectors.registered_model_resolve(user=shared.project.owner, name="churn").pk == shared.pk


# ---------------------------------------------------------------------------------------------------------------------
# Aliases
# ---------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "message"),
    [
        ("latest", "'latest' alias name (case insensitive) is reserved."),
        ("V3", "Version alias name 'V3' is reserved."),
        ("a b", "Invalid alias name: 'a b'. Names may only contain alphanumerics, underscores (_), and dashes (-)."),
        ("", "Registered model alias name cannot be empty."),
    ],
)
def test_aliases_mlflow_reserves_or_refuses_are_refused(alias, message):
    version = ModelVersionFactory()
    with pytest.raises(ValidationError) as refused:
        services.alias_set(actor=version.creator, model=version.registered_model, alias=alias, version=version)
    assert refused.value.messages == [message]


def test_an_alias_move_is_recorded_mailed_to_the_other_maintainers_and_signalled(django_capture_on_commit_callbacks):
    model = RegisteredModelFactory(name="churn")
    owner = model.project.owner
    first, second = ModelVersionFactory(registered_model=model), ModelVersionFactory(registered_model=model)
    maintainer = _member(model.project, "maintainer")
    _member(model.project, "editor")
    heard = []

    def receiver(sender, change, **kwargs):
        heard.append((change.alias, change.from_version, change.to_version, change.actor))

    alias_moved.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.alias_set(actor=maintainer, model=model, alias="champion", version=first)
        with django_capture_on_commit_callbacks(execute=True):
            services.alias_set(actor=maintainer, model=model, alias="champion", version=first)  # No move.
        with django_capture_on_commit_callbacks(execute=True):
            services.alias_set(actor=owner, model=model, alias="champion", version=second)
        with django_capture_on_commit_callbacks(execute=True):
            services.alias_delete(actor=owner, model=model, alias="champion")
    finally:
        alias_moved.disconnect(receiver)

    assert heard == [("champion", None, 1, maintainer), ("champion", 1, 2, owner), ("champion", 2, None, owner)]
    assert [(c.from_version, c.to_version, c.actor) for c in AliasChange.objects.order_by("pk")] == [
        (None, 1, maintainer),
        (1, 2, owner),
        (2, None, owner),
    ]
    assert [(m.to, m.subject) for m in mail.outbox] == [
        ([owner.email], "[Registry] churn@champion now points at version 1"),
        ([maintainer.email], "[Registry] churn@champion moved from version 1 to 2"),
        ([maintainer.email], "[Registry] churn@champion removed (it pointed at version 2)"),
    ]
    assert f"Changed by {owner.username}" in mail.outbox[1].body
    assert "models:/churn@champion now get version 2" in mail.outbox[1].body


def test_an_alias_records_who_set_it_and_when():
    version = ModelVersionFactory()
    maintainer = _member(version.registered_model.project, "maintainer")
    alias = services.alias_set(actor=maintainer, model=version.registered_model, alias="champion", version=version)
    assert (alias.set_by, alias.set_at is not None, alias.model_version) == (maintainer, True, version)


def test_deleting_a_version_removes_its_aliases_and_records_it():
    alias = AliasFactory()
    version = alias.model_version
    services.model_version_delete(actor=version.registered_model.project.owner, version=version)
    assert not RegisteredModelAlias.objects.exists()
    assert list(AliasChange.objects.values_list("alias", "from_version", "to_version")) == [("champion", 1, None)]


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("editor", False), ("maintainer", True)])
def test_maintainers_move_aliases_and_stages_and_delete(role, allowed):
    version = ModelVersionFactory()
    model = version.registered_model
    actor = _member(model.project, role)
    calls = [
        lambda: services.alias_set(actor=actor, model=model, alias="champion", version=version),
        lambda: services.model_version_transition_stage(actor=actor, version=version, stage="Staging"),
        lambda: services.registered_model_rename(actor=actor, model=model, new_name="renamed"),
        lambda: services.model_version_delete(actor=actor, version=version),
        lambda: services.registered_model_delete(actor=actor, model=model),
    ]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied):
                call()
    assert RegisteredModel.objects.exists() is not allowed
