"""Who may do what with a registered model and its versions: the caller's role in the model's project, read by the
MLflow adapter, the REST API, the admin and the services alike.

Viewers (and read-scope tokens, which may only read) read models and load their versions; editors create models and
versions and set tags and descriptions; maintainers set aliases and stages, rename and delete.
"""

from common.access import Access
from modelregistry.models import ModelVersion, RegisteredModel
from projects.models import ROLE_RANK, Project, ProjectRole

R = ProjectRole


def _model_role(user, obj: RegisteredModel | ModelVersion) -> str | None:
    # A version has no role of its own: its model's project decides. An unsaved model (one about to be created) has
    # its project already: the role is the caller's role there.
    project_id = obj.project_id if isinstance(obj, RegisteredModel) else obj.registered_model.project_id
    return Project.objects.with_role(user).values_list("role", flat=True).get(pk=project_id)


REGISTERED_MODEL_ACCESS = Access(
    {
        # Reading the model, its versions, aliases and tags, and loading a version's files.
        "retrieve": R.VIEWER,
        # Creating a model in a project, and a version of a model.
        "create": R.EDITOR,
        "create_version": R.EDITOR,
        # Descriptions and tags, of the model and of its versions.
        "update": R.EDITOR,
        "tag": R.EDITOR,
        # Pointing an alias at a version (or removing it), moving a version to another stage.
        "alias": R.MAINTAINER,
        "stage": R.MAINTAINER,
        "rename": R.MAINTAINER,
        "destroy": R.MAINTAINER,
        "destroy_version": R.MAINTAINER,
    },
    rank=ROLE_RANK,
    lookup=_model_role,
    annotation="role",
    refusal="Your role in this registered model's project does not allow this.",
)
