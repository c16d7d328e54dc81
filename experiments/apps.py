from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    name = "experiments"
    verbose_name = "Experiments"

    def ready(self):
        # What the apps below tell this one (accounts.signals, projects.signals).
        from experiments import receivers  # noqa: F401
