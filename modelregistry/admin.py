from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError

from common.admin import ReadOnlyInline, ServiceAdminMixin
from modelregistry import aliases, services, versions
from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.models import (
    AliasChange,
    ModelVersion,
    RegisteredModel,
    RegisteredModelAlias,
    RegisteredModelTag,
)


class _ActorForm(forms.ModelForm):
    """A form that refuses, beside the fields, what the services would refuse the staff member (`actor`, set by the
    admin's get_form): their role in the model's project, and the registry's rules."""

    actor = None

    def require(self, obj, operation: str, field: str | None = None) -> bool:
        try:
            REGISTERED_MODEL_ACCESS.require(self.actor, obj, operation)
        except PermissionDenied as exc:
            self.add_error(field, str(exc))
            return False
        return True


class _ActorAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Saves and deletes (one object or the changelist's selection) through the registry's services."""

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})


class RegisteredModelForm(_ActorForm):
    class Meta:
        model = RegisteredModel
        fields = ["project", "name", "description"]

    def clean(self):
        cleaned = super().clean()
        try:
            services.validate_name(cleaned.get("name"))
        except ValidationError as exc:
            self.add_error("name", exc)
        if self.instance.pk is None:
            if cleaned.get("project") is not None:
                self.require(RegisteredModel(project=cleaned["project"]), "create", "project")
        else:
            if "name" in self.changed_data:
                self.require(self.instance, "rename", "name")
            if "description" in self.changed_data:
                self.require(self.instance, "update", "description")
        return cleaned


class ModelVersionInline(ReadOnlyInline):
    """The model's versions, for reading; they are changed on their own pages."""

    model = ModelVersion
    fields = ["version", "stage", "status", "model_id", "run_uuid", "creator", "created_at"]
    show_change_link = True


class AliasInline(ReadOnlyInline):
    """The model's aliases, with who set each where and when; changed on the aliases' own pages."""

    model = RegisteredModelAlias
    fields = ["alias", "model_version", "set_by", "set_at"]
    show_change_link = True


class AliasChangeInline(ReadOnlyInline):
    """Every move of the model's aliases, newest first."""

    model = AliasChange
    fields = ["alias", "from_version", "to_version", "actor", "changed_at"]


class TagInline(ReadOnlyInline):
    model = RegisteredModelTag
    fields = ["key", "value"]


@admin.register(RegisteredModel)
class RegisteredModelAdmin(_ActorAdmin):
    """Registered models of every project; saved through the same services as the APIs, with the staff member's role
    in the model's project."""

    form = RegisteredModelForm
    list_display = ["name", "project", "creator", "last_version", "created_at", "updated_at"]
    list_filter = ["created_at"]
    search_fields = ["name", "project__name"]
    list_select_related = ["project", "creator"]
    autocomplete_fields = ["project"]
    readonly_fields = ["creator", "last_version", "created_at", "updated_at"]
    inlines = [AliasInline, ModelVersionInline, TagInline, AliasChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # A model stays in its project.
        return [*self.readonly_fields, "project"] if obj is not None else self.readonly_fields

    editable_fields = ("name", "description")

    def service_create(self, request, obj, changed):
        created = services.registered_model_create(
            actor=request.user, project=obj.project, name=obj.name, description=obj.description
        )
        obj.pk = created.pk

    def service_update(self, request, obj, changed):
        stored = RegisteredModel.objects.get(pk=obj.pk)
        if "name" in changed:
            services.registered_model_rename(actor=request.user, model=stored, new_name=changed["name"])
        if "description" in changed:
            services.registered_model_update(actor=request.user, model=stored, description=changed["description"])

    def service_destroy(self, request, obj):
        services.registered_model_delete(actor=request.user, model=obj)


class ModelVersionForm(_ActorForm):
    class Meta:
        model = ModelVersion
        fields = ["description", "stage"]

    def clean(self):
        cleaned = super().clean()
        if "description" in self.changed_data:
            self.require(self.instance, "update", "description")
        if "stage" in self.changed_data:
            self.require(self.instance, "stage", "stage")
        return cleaned


@admin.register(ModelVersion)
class ModelVersionAdmin(_ActorAdmin):
    """Versions, registered by MLflow's client; their description and stage change through the services."""

    form = ModelVersionForm
    list_display = ["registered_model", "version", "stage", "status", "model_id", "creator", "created_at"]
    list_filter = ["stage", "status"]
    search_fields = ["registered_model__name", "model_id", "run_uuid"]
    list_select_related = ["registered_model", "creator"]
    readonly_fields = [
        "registered_model",
        "version",
        "status",
        "source",
        "run_uuid",
        "model_id",
        "storage_location",
        "creator",
        "created_at",
        "updated_at",
    ]
    fields = ["description", "stage", *readonly_fields]

    def has_add_permission(self, request) -> bool:
        return False

    editable_fields = ("description", "stage")

    def service_update(self, request, obj, changed):
        stored = ModelVersion.objects.select_related("registered_model").get(pk=obj.pk)
        if "description" in changed:
            versions.model_version_update(actor=request.user, version=stored, description=changed["description"])
        if "stage" in changed:
            versions.model_version_transition_stage(actor=request.user, version=stored, stage=changed["stage"])

    def service_destroy(self, request, obj):
        versions.model_version_delete(actor=request.user, version=obj)


class AliasForm(_ActorForm):
    class Meta:
        model = RegisteredModelAlias
        fields = ["registered_model", "alias", "model_version"]

    def clean(self):
        cleaned = super().clean()
        # A stored alias keeps its model and name (read-only fields, not in the form): only its version moves.
        stored = self.instance.pk is not None
        model = self.instance.registered_model if stored else cleaned.get("registered_model")
        version = cleaned.get("model_version")
        try:
            services.validate_alias(self.instance.alias if stored else cleaned.get("alias"))
        except ValidationError as exc:
            self.add_error("alias", exc)
        if model is not None and version is not None and version.registered_model_id != model.pk:
            self.add_error("model_version", f"Version {version.version} is not a version of {model.name!r}.")
        if model is not None:
            self.require(model, "alias", "registered_model")
        return cleaned


@admin.register(RegisteredModelAlias)
class RegisteredModelAliasAdmin(_ActorAdmin):
    """Aliases: pointing one at a version (or removing it) goes through the service, which records who did it and
    when and mails the project's maintainers."""

    form = AliasForm
    list_display = ["alias", "registered_model", "model_version", "set_by", "set_at"]
    search_fields = ["alias", "registered_model__name"]
    list_select_related = ["registered_model", "model_version", "set_by"]
    autocomplete_fields = ["registered_model", "model_version"]
    readonly_fields = ["set_by", "set_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "registered_model", "alias"] if obj is not None else self.readonly_fields

    def service_create(self, request, obj, changed):
        alias = aliases.alias_set(
            actor=request.user, model=obj.registered_model, alias=obj.alias, version=obj.model_version
        )
        obj.pk = alias.pk

    # Pointing an alias at another version sets it anew, as MLflow's client does.
    service_update = service_create

    def service_destroy(self, request, obj):
        aliases.alias_delete(actor=request.user, model=obj.registered_model, alias=obj.alias)


@admin.register(AliasChange)
class AliasChangeAdmin(admin.ModelAdmin):
    """The history of alias moves, read-only."""

    list_display = ["registered_model", "alias", "from_version", "to_version", "actor", "changed_at"]
    list_filter = ["changed_at"]
    search_fields = ["alias", "registered_model__name", "actor__username"]
    list_select_related = ["registered_model", "actor"]
    readonly_fields = list_display

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
