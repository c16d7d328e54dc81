"""The statements of the plain list of experiments (no filter, the default order) and of reading one experiment,
prepared once (see common.prepared), for callers who are not superusers. Most requests run one of them, and building
them anew each time would cost more than running them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import MAX_ID
from common.prepared import Late, Prepared, PreparedList
from experiments.display import show
from experiments.models import Experiment, visibility

USER = Late("user", models.BigIntegerField())
PK = Late("pk", models.BigIntegerField())
RUN_ID = Late("run_id", models.CharField())
NOW = Late("now", models.DateTimeField())


def _visible():
    return Experiment.objects.where_visible_to_member(USER, now=NOW)


VISIBLE_ROWS = Prepared(lambda: _visible().for_display().order_by("pk"))


def _visible_ids():
    # The rule's two parts made disjoint, in a UNION ALL: the shared experiments, read from the (project, lifecycle
    # stage, id) index alone, and the caller's own outside them. As one OR, PostgreSQL read every table page holding a
    # visible row to count them; as a UNION, it spilled the ids of a wide caller to disk to drop the duplicates.
    owned, shared = visibility(USER, now=NOW)
    ids = Experiment.objects.order_by().values("pk")
    return ids.filter(shared).union(ids.filter(owned & (Q(project_id__isnull=True) | ~shared)), all=True)


VISIBLE_COUNT = Prepared(_visible_ids, template="SELECT COUNT(*) FROM ({}) AS visible")


def visible_experiments(user) -> PreparedList:
    """The experiments `user` (not a superuser: they see every row) may see, as Experiment.where_visible_to() says,
    for the paginator."""
    return PreparedList(VISIBLE_ROWS, VISIBLE_COUNT, {"user": user.pk, "now": timezone.now()}, row=show)


ONE_WITH_ACCESS = Prepared(lambda: Experiment.objects.for_display().with_member_access(USER, now=NOW).filter(pk=PK))


def experiment_with_access(user, pk: int) -> Experiment | None:
    """Experiment `pk` (None if there is none) with `user`'s role on it in `access_role` (None: no access), as
    Experiment.with_access() says, for a `user` who is not a superuser; whether the role allows a read is HasRole's
    to say."""
    if not 0 < pk <= MAX_ID:
        return None
    found = ONE_WITH_ACCESS.instances({"user": user.pk, "now": timezone.now(), "pk": pk})
    return show(found[0]) if found else None


RUN_WITH_ACCESS = Prepared(lambda: Experiment.objects.with_member_access(USER, now=NOW).filter(run_uuid=RUN_ID))


def run_with_access(user, run_id: str) -> Experiment | None:
    """The experiment whose run id (MLflow's) is `run_id`, or None, with `user`'s role on it in `access_role` (None: no
    access), as Experiment.with_access() says, for a `user` who is not a superuser. Its own columns only: for the
    writes of MLflow's API, the most frequent of which is a batch of metrics."""
    found = RUN_WITH_ACCESS.instances({"user": user.pk, "now": timezone.now(), "run_id": run_id})
    return found[0] if found else None
