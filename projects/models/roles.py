"""The roles a project grants, by rank, and the lifecycle stages of projects and experiments (MLflow's)."""

from django.db import models


class ProjectRole(models.TextChoices):
    """What a user may do in a project, each role including the ones before it."""

    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    MAINTAINER = "maintainer", "Maintainer"
    OWNER = "owner", "Owner"


ROLE_RANK = {ProjectRole.VIEWER: 1, ProjectRole.EDITOR: 2, ProjectRole.MAINTAINER: 3, ProjectRole.OWNER: 4}
MEMBER_ROLES = [(role.value, role.label) for role in ProjectRole if role != ProjectRole.OWNER]


class LifecycleStage(models.TextChoices):
    """Whether a project or an experiment is in use or softly deleted (kept, hidden from tracking clients' lists)."""

    ACTIVE = "active", "Active"
    DELETED = "deleted", "Deleted"
