"""Who may do what with a logged model: the caller's role in its project (viewers read, editors log, maintainers
delete), read by the MLflow adapter and the services alike."""

from common.access import Access
from loggedmodels.models import LoggedModel
from projects.models import ROLE_RANK, Project, ProjectRole

R = ProjectRole


def _model_role(user, model: LoggedModel) -> str | None:
    return Project.objects.with_role(user).values_list("role", flat=True).get(pk=model.project_id)


LOGGED_MODEL_ACCESS = Access(
    {
        "retrieve": R.VIEWER,
        # Finalizing, tagging, logging parameters and files.
        "log": R.EDITOR,
        "destroy": R.MAINTAINER,
    },
    rank=ROLE_RANK,
    lookup=_model_role,
    annotation="role",
    refusal="Your role in this model's project does not allow this.",
)
