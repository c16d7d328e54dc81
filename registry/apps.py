from django.contrib.admin.apps import AdminConfig


class RegistryAdminConfig(AdminConfig):
    """The admin, served by `registry.admin.RegistryAdminSite`."""

    default_site = "registry.admin.RegistryAdminSite"
