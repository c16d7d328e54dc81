"""ViewSets as declarations: a resource's ViewSet names its queryset, serializers, access table and services; this mixin
performs create, update and destroy through those services, and builds the `Location` header and the read-back."""

from functools import cached_property

from django.db import models
from django.shortcuts import get_object_or_404
from rest_framework import status
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response
from rest_framework.reverse import reverse


class ServiceWritesMixin:
    """Create, update and destroy through the app's services (`service_create`, `service_update`, `service_destroy`).

    The body is validated by the action's serializer; the service writes; the answer is the object read back through
    the ViewSet's own queryset (so it carries the same annotations as a GET), shown by `get_read_serializer`. A ViewSet
    that offers only some of the writes takes the matching mixins below instead, so that the router adds no route
    for the others.
    """

    def service_create(self, data: dict) -> models.Model:
        raise NotImplementedError

    def service_update(self, instance: models.Model, data: dict) -> models.Model:
        raise NotImplementedError

    def service_destroy(self, instance: models.Model) -> None:
        raise NotImplementedError

    def read_back(self, instance: models.Model) -> models.Model:
        return self.get_queryset().get(pk=instance.pk)

    def get_read_serializer(self, instance: models.Model):
        return self.get_serializer(instance)

    def location(self, instance: models.Model) -> str:
        lookup = self.lookup_url_kwarg or self.lookup_field
        kwargs = {**self.kwargs, lookup: getattr(instance, self.lookup_field)}
        return reverse(f"{self.basename}-detail", kwargs=kwargs, request=self.request)


class ServiceCreateMixin(ServiceWritesMixin):
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.read_back(self.service_create(serializer.validated_data))
        return Response(
            self.get_read_serializer(instance).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": self.location(instance)},
        )


class ServiceUpdateMixin(ServiceWritesMixin):
    def update(self, request, *args, **kwargs):
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        instance = self.read_back(self.service_update(instance, serializer.validated_data))
        return Response(self.get_read_serializer(instance).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class ServiceDestroyMixin(ServiceWritesMixin):
    def perform_destroy(self, instance: models.Model) -> None:
        self.service_destroy(instance)


class ServiceModelMixin(ServiceCreateMixin, ServiceUpdateMixin, ServiceDestroyMixin):
    """Every write through the services, for a ViewSet that offers them all."""


class ParentScopedMixin:
    """Routes under one parent object (`/projects/{project_pk}/...`, `/experiments/{experiment_pk}/...`) whose access is
    the caller's role on that parent, read from `get_parent_queryset()` (annotated with the role) by the URL's
    `parent_kwarg` and checked against the ViewSet's access table before anything else: a parent the caller may not
    see answers 403, a missing one 404, and a method the route does not answer 405 for everyone."""

    parent_kwarg = ""

    def get_parent_queryset(self) -> models.QuerySet:
        raise NotImplementedError

    @cached_property
    def parent(self) -> models.Model:
        parent = get_object_or_404(self.get_parent_queryset(), pk=self.kwargs.get(self.parent_kwarg))
        self.check_object_permissions(self.request, parent)
        return parent

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Without this, the role check below, which finds no operation for a method the route does not answer, would
        # answer 403 first.
        if request.method.lower() not in self.http_method_names or self.action is None:
            raise MethodNotAllowed(request.method)
        self.parent  # noqa: B018  (the parent's existence and the caller's role are checked before anything else)
