"""The web UI's pages: each reads through the domain apps' selectors, checks the caller's role against the domain's
access table, and renders a template. A page the caller may not see answers 404, like one that does not exist."""

import json
import math
from functools import partial
from urllib.parse import urlencode

from csp.decorators import csp_replace
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LogoutView
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_GET, require_http_methods

from common.password_forms import ThrottledLoginView
from experiments.access import EXPERIMENT_ACCESS
from experiments.models import ExperimentStatus
from experiments.selectors import run_get, run_list_in_project, run_table_keys
from projects.access import MEMBERSHIP_ACCESS, PROJECT_ACCESS
from projects.selectors import project_get, project_list
from tracking.selectors import metric_history_longer_than, metric_history_sample
from ui import tables

# A chart draws about this many points per series as legibly as a million, and the answer stays small and fast
# whatever a run logged.
CHART_POINTS_MAX = 1000

signed_in = partial(login_required, login_url=reverse_lazy("ui:signin"))
# The UI's pages have no inline style either (the site's policy allows them for the admin and the browsable API).
strict_styles = csp_replace({"style-src": ["'self'"]})


def _signed_in_only(method: str):
    def decorate(view):
        return strict_styles(require_http_methods([method])(signed_in()(view)))

    return decorate


# A page a signed-in person reads, and a form's POST that changes something; anyone else goes to the sign-in page.
signed_in_page = _signed_in_only("GET")
signed_in_post = _signed_in_only("POST")

# MLflow's system tags that say where a run came from, as the run page labels them.
SOURCE_TAGS = [
    ("mlflow.source.name", "Source"),
    ("mlflow.source.type", "Source type"),
    ("mlflow.source.git.commit", "Git commit"),
    ("mlflow.source.git.branch", "Git branch"),
    ("mlflow.source.git.repoURL", "Git repository"),
    ("mlflow.user", "User (as the client said)"),
    ("mlflow.parentRunId", "Parent run"),
]
NOTE_TAG = "mlflow.note.content"
# Charts a run page draws when the query picks none.
DEFAULT_CHARTS = 3
# Seconds between two reads of a running run's charts.
LIVE_SECONDS = 10
# Runs compared at once at most: each chart fetches one history per run.
COMPARE_MAX = 10


@method_decorator(strict_styles, name="dispatch")
class SignInView(ThrottledLoginView):
    """Sign in with a username or an e-mail and a password (a session), throttled like every password door."""

    template_name = "ui/signin.html"
    refused_template = "ui/signin_throttled.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("ui:projects")


@method_decorator(strict_styles, name="dispatch")
class SignOutView(LogoutView):
    """Sign out (a POST, from the form on every page)."""

    next_page = reverse_lazy("ui:signin")


@strict_styles
@require_GET
def home(request):
    """The page a browser gets at `/`: its script sends MLflow's links (`/#/experiments/<id>/runs/<run_id>`, whose
    part after `#` never reaches the server) to the project's or the run's page, and anything else to the projects."""
    return render(request, "ui/home.html")


@signed_in_page
def projects(request):
    return render(request, "ui/projects.html", {"projects": project_list(user=request.user)})


def found(obj, what: str, *, access=None, role: str = "role", action: str = "retrieve"):
    """`obj`, or a 404 ("No such `what`.") when it is missing or when the caller's role (its attribute `role`) does not
    allow `action` in the domain's `access` table: a page the caller may not use does not exist for them."""
    if obj is None or (access is not None and not access.allows(getattr(obj, role), action)):
        raise Http404(f"No such {what}.")
    return obj


def _project(request, pk: int):
    return found(project_get(user=request.user, pk=pk), "project", access=PROJECT_ACCESS)


@signed_in_page
def project(request, pk: int):
    """A project's runs: the table (only the table when htmx asks for it) and its column picker."""
    project = _project(request, pk)
    table = tables.runs_table(project_id=project.pk, query=request.GET)
    context = {"project": project, "table": table}
    if request.htmx and request.htmx.target == "runs":
        return render(request, "ui/_runs_table.html", context)
    metric_keys, param_keys = run_table_keys(project_id=project.pk)
    context["may_share"] = MEMBERSHIP_ACCESS.allows(project.role, "create")
    context["metric_keys"] = [(key, key in table.metrics) for key in metric_keys]
    context["param_keys"] = [(key, key in table.params) for key in param_keys]
    return render(request, "ui/project.html", context)


def _run(request, run_id: str, *, shown: bool = True):
    """The run `run_id` if the caller may read it, else 404; `shown`: with its owner, latest metrics and tags."""
    return found(
        run_get(user=request.user, run_id=run_id, shown=shown), "run", access=EXPERIMENT_ACCESS, role="access_role"
    )


@signed_in_page
def run(request, run_id: str):
    run = _run(request, run_id)
    tags = run.run_tag_values
    metrics = sorted(run.results.items())
    keys = [key for key, _ in metrics]
    charts = [key for key in request.GET.getlist("chart") if key in keys] or keys[:DEFAULT_CHARTS]
    context = {
        "run": run,
        "project": run.project,
        "duration": tables.format_duration(run.finished_at - run.started_at)
        if run.started_at and run.finished_at
        else "",
        "source": [(label, tags[key]) for key, label in SOURCE_TAGS if tags.get(key)],
        "note": tags.get(NOTE_TAG, ""),
        "params": sorted((key, str(value)) for key, value in run.parameters.items()),
        "metrics": [
            (key, tables.format_number(value, is_nan=math.isnan(value)), key in charts) for key, value in metrics
        ],
        "tags": sorted((key, value) for key, value in tags.items() if key != NOTE_TAG),
        "labels": run.tags,
        "charts": charts,
        # The charts' x axis: the step, or the wall-clock time of each point (`?x=time`).
        "x_axis": "time" if request.GET.get("x") == "time" else "step",
        # A running run's charts fetch their histories again every this many seconds, so new points show.
        "live_seconds": LIVE_SECONDS if run.status == ExperimentStatus.RUNNING else 0,
    }
    return render(request, "ui/run.html", context)


@signed_in_page
def metric_history(request, run_id: str):
    """One metric's history as `{"key", "steps", "times", "values", "thinned"}` for a chart (`times` in milliseconds
    since the epoch): at most CHART_POINTS_MAX points,
    evenly spaced over the steps with the first and the last kept (as MLflow's get-history-bulk-interval samples
    them), NaN and infinities as null (a gap in the line); `thinned` says whether the history holds more."""
    run = _run(request, run_id, shown=False)
    key = request.GET.get("key", "")
    sampled = metric_history_sample(
        experiment_ids=[run.pk], key=key, max_results=CHART_POINTS_MAX, start_step=None, end_step=None
    )
    points = sampled.get(run.pk, [])
    return JsonResponse(
        {
            "key": key,
            "steps": [step for _, step, _, _, _ in points],
            "times": [timestamp for _, _, timestamp, _, _ in points],
            "values": [None if is_nan or not math.isfinite(value) else value for _, _, _, value, is_nan in points],
            "thinned": metric_history_longer_than(experiment_id=run.pk, key=key, count=len(points)),
        }
    )


@signed_in_page
def compare(request, pk: int):
    """Runs of a project side by side (`?run=<run_id>&run=...`): parameters and latest metrics in one table, a value
    that differs between them marked, and a chart per picked metric with a line per run."""
    project = _project(request, pk)
    runs = run_list_in_project(project_id=project.pk, run_ids=request.GET.getlist("run")[:COMPARE_MAX])
    param_keys = sorted({key for run in runs for key in run.parameters})
    metric_keys = sorted({key for run in runs for key in run.results})
    params = [(key, [str(run.parameters[key]) if key in run.parameters else "" for run in runs]) for key in param_keys]
    metrics = [
        (key, [tables.format_number(run.results.get(key), is_nan=math.isnan(run.results.get(key, 0))) for run in runs])
        for key in metric_keys
    ]
    charts = [key for key in request.GET.getlist("chart") if key in metric_keys] or metric_keys[:DEFAULT_CHARTS]
    series = [
        (
            key,
            json.dumps(
                [
                    {
                        "label": run.name,
                        "url": reverse("ui:metric-history", args=[run.run_uuid]) + "?" + urlencode({"key": key}),
                    }
                    for run in runs
                    if key in run.results
                ]
            ),
        )
        for key in charts
    ]
    context = {
        "project": project,
        "runs": runs,
        "params": [(key, values, len(set(values)) > 1) for key, values in params],
        "metrics": [(key, values, len(set(values)) > 1, key in charts) for key, values in metrics],
        "series": series,
    }
    return render(request, "ui/compare.html", context)
