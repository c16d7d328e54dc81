"""The reads of projects that other code uses (the web UI first): lists and objects with what they show."""

from django.db.models import OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from projects.models import Project


def project_list(*, user) -> QuerySet[Project]:
    """The projects `user` may see, newest first, each with the caller's `role`, its `experiment_count` and its
    `last_activity`: the latest change to the project or to one of its experiments."""
    experiments = Project._meta.get_field("experiments").related_model.objects
    latest_change = experiments.filter(project_id=OuterRef("pk")).order_by("-updated_at").values("updated_at")[:1]
    return (
        Project.objects.visible_to(user)
        .with_experiment_count()
        .annotate(last_activity=Greatest("updated_at", Coalesce(Subquery(latest_change), "updated_at")))
        .order_by("-created_at", "-id")
    )


def project_get(*, user, pk: int) -> Project | None:
    """Project `pk` with `user`'s `role` in it (None: no access), or None when there is no such project."""
    return Project.objects.with_role(user).filter(pk=pk).first()
