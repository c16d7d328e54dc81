from django.urls import path, re_path

from ui import views

app_name = "ui"

urlpatterns = [
    path("", views.projects, name="projects"),
    path("signin", views.SignInView.as_view(), name="signin"),
    path("signout", views.SignOutView.as_view(), name="signout"),
    path("projects/<int:pk>", views.project, name="project"),
    path("projects/<int:pk>/compare", views.compare, name="compare"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})$", views.run, name="run"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/metric-history$", views.metric_history, name="metric-history"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/artifacts$", views.run_artifacts, name="run-artifacts"),
]
