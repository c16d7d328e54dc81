"""Who may do what with a project and its members: the one table of each, read by the API, the admin and the services.

Roles rank viewer < editor < maintainer < owner (projects.models.ROLE_RANK); a superuser acts as owner everywhere.
"""

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from common.access import ANYONE, Access
from projects.models import ROLE_RANK, Project, ProjectRole

R = ProjectRole


def _role_in_project(user, project_id: int) -> str | None:
    return Project.objects.with_role(user).values_list("role", flat=True).get(pk=project_id)


def on_the_project(
    minimums: dict,
    *,
    project_of: Callable[[Any], int] = attrgetter("pk"),
    refusal: str = "Your role in this project does not allow this.",
) -> Access:
    """A table checked against the actor's role in a project: the object's own (`project_of` gives its id; by
    default the object is the project) for projects, their members and what else takes its roles from a project."""
    return Access(
        minimums,
        rank=ROLE_RANK,
        lookup=lambda user, obj: _role_in_project(user, project_of(obj)),
        annotation="role",
        refusal=refusal,
    )


PROJECT_ACCESS = on_the_project(
    {
        "retrieve": R.VIEWER,
        "update": R.MAINTAINER,
        "destroy": R.OWNER,
        "transfer": R.OWNER,
        # Tracking clients delete a project softly (and restore it); the project and its experiments are kept.
        "soft_delete": R.MAINTAINER,
        "restore": R.MAINTAINER,
        # Putting an experiment into the project, or moving one there.
        "add_experiment": R.EDITOR,
    }
)

# A project's members, checked on the project: the role is the actor's role in it.
MEMBERSHIP_ACCESS = on_the_project(
    {
        "list": R.VIEWER,
        "retrieve": R.VIEWER,
        "create": R.MAINTAINER,
        "update": R.MAINTAINER,
        "destroy": R.MAINTAINER,
        # Removing one's own membership: always allowed, even after it has expired.
        "leave": ANYONE,
    }
)

# A project's pending invitations, checked on the project: those who may invite see and cancel them. Cancelling a
# transfer also needs what sending one needs (PROJECT_ACCESS "transfer"). The invitee's own routes need no role: an
# invitation is theirs alone (projects.views.InvitationViewSet).
INVITATION_ACCESS = on_the_project(
    {
        "list": R.MAINTAINER,
        "retrieve": R.MAINTAINER,
        "destroy": R.MAINTAINER,
    }
)


def projects_allowing(user, operation: str):
    """The projects in which `user`'s role allows `operation` (such as `add_experiment`), annotated with `role`."""
    return Project.objects.where_role_in(user, PROJECT_ACCESS.roles_for(operation)).with_role(user)
