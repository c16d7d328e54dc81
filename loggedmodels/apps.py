from django.apps import AppConfig


class LoggedModelsConfig(AppConfig):
    name = "loggedmodels"
    verbose_name = "Logged models"
