from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import AuthViewSet, UserViewSet
from artifacts.views import ExperimentArtifactViewSet
from common.routers import OptionalSlashRouter
from experiments.views import ExperimentViewSet, MetricViewSet, ProjectExperimentViewSet
from loggedmodels.views import ExperimentOutputViewSet, ProjectLoggedModelViewSet
from modelregistry.views import ModelVersionViewSet, ProjectRegisteredModelViewSet, RegisteredModelViewSet
from projects.views import InvitationViewSet, ProjectInvitationViewSet, ProjectMembershipViewSet, ProjectViewSet
from registry import views
from runinputs.views import ExperimentInputViewSet
from tokens.views import PersonalAccessTokenViewSet

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")
router.register("projects", ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]+)/members", ProjectMembershipViewSet, basename="project-member")
router.register(r"projects/(?P<project_pk>[0-9]+)/invitations", ProjectInvitationViewSet, basename="project-invitation")
router.register("invitations", InvitationViewSet, basename="invitation")
router.register(r"projects/(?P<project_pk>[0-9]+)/experiments", ProjectExperimentViewSet, basename="project-experiment")
router.register("experiments", ExperimentViewSet, basename="experiment")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/registered-models",
    ProjectRegisteredModelViewSet,
    basename="project-registered-model",
)
router.register("registered-models", RegisteredModelViewSet, basename="registered-model")
router.register("model-versions", ModelVersionViewSet, basename="model-version")
router.register("auth/tokens", PersonalAccessTokenViewSet, basename="personal-access-token")
router.register(r"experiments/(?P<experiment_pk>[0-9]+)/metrics", MetricViewSet, basename="experiment-metric")
router.register(r"experiments/(?P<experiment_pk>[0-9]+)/inputs", ExperimentInputViewSet, basename="experiment-input")
router.register(r"experiments/(?P<experiment_pk>[0-9]+)/outputs", ExperimentOutputViewSet, basename="experiment-output")
router.register(
    r"projects/(?P<project_pk>[0-9]+)/logged-models", ProjectLoggedModelViewSet, basename="project-logged-model"
)
router.register("auth", AuthViewSet, basename="auth")

browsable_api_auth = [
    path("login/", views.BrowsableAPILoginView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
]

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^health/?$", views.health, name="health"),
    # Short aliases of other routes; the schema documents each operation once, naming its alias (common.schema).
    re_path(r"^healthcheck/?$", views.health, name="healthcheck"),
    re_path(r"^auth/register/?$", UserViewSet.as_view({"post": "create"}), name="register"),
    re_path(r"^login/?$", AuthViewSet.as_view({"post": "token"}, **AuthViewSet.token.kwargs), name="login"),
    re_path(r"^me/?$", UserViewSet.as_view({"get": "me"}), name="me"),
    path("api-auth/", include((browsable_api_auth, "rest_framework"))),
    re_path(r"^admin$", RedirectView.as_view(url="/admin/", permanent=True)),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", views.RedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    # An experiment's files: paths hold `/`, so these are routed here rather than by the router, whose optional trailing
    # slash would make `a/` and `a` one path.
    re_path(
        r"^experiments/(?P<experiment_pk>[0-9]+)/artifacts/?$",
        ExperimentArtifactViewSet.as_view({"get": "list"}),
        name="experiment-artifact-list",
    ),
    re_path(
        r"^experiments/(?P<experiment_pk>[0-9]+)/artifacts/(?P<path>[\s\S]+)$",
        ExperimentArtifactViewSet.as_view({"get": "retrieve", "put": "update", "delete": "destroy"}),
        name="experiment-artifact-detail",
    ),
    # The web UI, for browsers (a browser opening `/` reaches it too: registry.views.root).
    path("ui/", include("ui.urls")),
    # MLflow's tracking API, for MLflow's own client (see mlflow_api).
    path("", include("mlflow_api.urls")),
    path("", include(router.urls)),
]

handler400 = "registry.views.bad_request"
handler403 = "registry.views.permission_denied"
handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"
