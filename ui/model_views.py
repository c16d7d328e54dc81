"""The model registry's pages: the registered models the caller may see, and one model with its versions and aliases,
each version linked to the run it came from. Read-only: models are registered from MLflow's client."""

from django.shortcuts import render

from modelregistry.access import REGISTERED_MODEL_ACCESS
from modelregistry.selectors import model_version_list_of, registered_model_get, registered_model_list, show_names
from ui.views import found, signed_in_page

# Models listed on one page at most, most recently changed first.
MODELS_MAX = 500


@signed_in_page
def models(request):
    """The registered models of the projects the caller may see: name, project, latest version and aliases."""
    listed = list(
        registered_model_list(user=request.user).select_related("project").order_by("-updated_at", "-id")[:MODELS_MAX]
    )
    show_names(user=request.user, models=listed)
    return render(request, "ui/models.html", {"models": listed, "limit": MODELS_MAX})


@signed_in_page
def model(request, pk: int):
    """A registered model: its description, tags and aliases, and every version with its stage, status, aliases and
    the run it came from. A model the caller may not see answers 404."""
    model = found(registered_model_get(user=request.user, pk=pk), "model", access=REGISTERED_MODEL_ACCESS)
    show_names(user=request.user, models=[model])
    context = {"model": model, "project": model.project, "versions": model_version_list_of(model=model)}
    return render(request, "ui/model.html", context)
