from django.apps import AppConfig


class RunInputsConfig(AppConfig):
    name = "runinputs"
    verbose_name = "Run inputs"

    def ready(self):
        from experiments.search.grammar import DATASET
        from experiments.search.runs import register_clause_kind
        from runinputs.search import dataset_q

        register_clause_kind(DATASET, dataset_q)
