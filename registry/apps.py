from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class RegistryConfig(AppConfig):
    """The project package as an app of its own, for what belongs to no one app: the cache table's migration."""

    name = "registry"


class RegistryAdminConfig(AdminConfig):
    """The admin, served by `registry.admin.RegistryAdminSite`."""

    default_site = "registry.admin.RegistryAdminSite"
