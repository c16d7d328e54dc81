from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view

from experiments.viewsets import ExperimentPartViewSet
from runinputs import selectors
from runinputs.serializers import DatasetInputSerializer


@extend_schema_view(
    list=extend_schema(
        summary="List the datasets an experiment used (viewer and up)",
        responses={
            200: DatasetInputSerializer(many=True),
            403: OpenApiResponse(description="The caller may not read the experiment."),
        },
    )
)
class ExperimentInputViewSet(ExperimentPartViewSet):
    """The datasets an experiment used (MLflow's `runs/log-inputs`), in the order it logged them; whoever may read the
    experiment reads them."""

    serializer_class = DatasetInputSerializer

    def get_queryset(self):
        return selectors.experiment_dataset_inputs(experiment_id=self.kwargs.get("experiment_pk"))
