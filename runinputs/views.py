from experiments.viewsets import ExperimentPartViewSet, experiment_part_schema
from runinputs import selectors
from runinputs.serializers import DatasetInputSerializer


@experiment_part_schema(
    summary="List the datasets an experiment used (viewer and up)", serializer=DatasetInputSerializer
)
class ExperimentInputViewSet(ExperimentPartViewSet):
    """The datasets an experiment used (MLflow's `runs/log-inputs`), in the order it logged them; whoever may read the
    experiment reads them."""

    serializer_class = DatasetInputSerializer

    def get_queryset(self):
        return selectors.experiment_dataset_inputs(experiment_id=self.kwargs.get("experiment_pk"))
