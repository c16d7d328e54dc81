from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.views import AuthViewSet, UserViewSet
from experiments.views import ExperimentViewSet
from projects.views import ProjectMembershipViewSet, ProjectViewSet
from registry import views
from registry.routers import OptionalSlashRouter
from tokens.views import PersonalAccessTokenViewSet

router = OptionalSlashRouter()
router.register("users", UserViewSet, basename="user")
router.register("projects", ProjectViewSet, basename="project")
router.register(r"projects/(?P<project_pk>[0-9]+)/members", ProjectMembershipViewSet, basename="project-member")
router.register("experiments", ExperimentViewSet, basename="experiment")
router.register("auth/tokens", PersonalAccessTokenViewSet, basename="personal-access-token")
router.register("auth", AuthViewSet, basename="auth")

urlpatterns = [
    path("", views.root, name="root"),
    re_path(r"^health/?$", views.health, name="health"),
    re_path(r"^healthcheck/?$", views.health, name="healthcheck"),
    # Short aliases of routes on the router.
    re_path(r"^auth/register/?$", UserViewSet.as_view({"post": "create"}), name="register"),
    re_path(r"^login/?$", AuthViewSet.as_view({"post": "token"}, **AuthViewSet.token.kwargs), name="login"),
    re_path(r"^me/?$", UserViewSet.as_view({"get": "me"}), name="me"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    re_path(r"^redoc/?$", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    path("", include(router.urls)),
]

handler400 = "registry.views.bad_request"
handler403 = "registry.views.permission_denied"
handler404 = "registry.views.page_not_found"
handler500 = "registry.views.server_error"
