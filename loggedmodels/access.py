"""Who may do what with a logged model: the caller's role in its project (viewers read, editors log, maintainers
delete), read by the MLflow adapter and the services alike."""

from operator import attrgetter

from projects.access import on_the_project
from projects.models import ProjectRole

R = ProjectRole

LOGGED_MODEL_ACCESS = on_the_project(
    {
        "retrieve": R.VIEWER,
        # Finalizing, tagging, logging parameters and files.
        "log": R.EDITOR,
        "destroy": R.MAINTAINER,
    },
    project_of=attrgetter("project_id"),
    refusal="Your role in this model's project does not allow this.",
)
