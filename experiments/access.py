"""Who may do what with an experiment: the one table, read by the API, the tracking API, the admin and the services.

The role on an experiment is `owner` for its owner (and a superuser), else the caller's role in its project, where the
project's owner counts as maintainer: the project's owner may change and delete others' experiments in it, but only
an experiment's owner may move it to another project.
"""

from common.access import Access
from experiments.models import Experiment
from projects.models import ROLE_RANK, ProjectRole

R = ProjectRole


def _experiment_role(user, experiment: Experiment) -> str | None:
    return Experiment.objects.with_access(user).values_list("access_role", flat=True).get(pk=experiment.pk)


EXPERIMENT_ACCESS = Access(
    {
        "retrieve": R.VIEWER,
        "update": R.EDITOR,
        "rerun": R.EDITOR,
        # Recording metric points, parameters and tags, as a tracking client does.
        "log": R.EDITOR,
        "destroy": R.MAINTAINER,
        # Tracking clients delete a run softly (and restore it); the experiment is kept.
        "soft_delete": R.MAINTAINER,
        "restore": R.MAINTAINER,
        # Moving it to another project shows it to people its owner never chose.
        "move": R.OWNER,
    },
    rank=ROLE_RANK,
    lookup=_experiment_role,
    annotation="access_role",
    refusal="Your access to this experiment does not allow this.",
)
