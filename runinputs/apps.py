from django.apps import AppConfig


class RunInputsConfig(AppConfig):
    name = "runinputs"
    verbose_name = "Run inputs"
