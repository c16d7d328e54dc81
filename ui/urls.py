from django.urls import path, re_path

from ui import account_views, token_views, views

app_name = "ui"

urlpatterns = [
    path("", views.projects, name="projects"),
    path("signin", views.SignInView.as_view(), name="signin"),
    path("signout", views.SignOutView.as_view(), name="signout"),
    path("account", account_views.account, name="account"),
    path("account/password", account_views.account_password, name="account-password"),
    path("account/email", account_views.account_email, name="account-email"),
    path("email/confirm", account_views.email_confirm, name="email-confirm"),
    path("password/forgot", account_views.password_forgot, name="password-forgot"),
    path("password/reset", account_views.password_reset, name="password-reset"),
    path("tokens", token_views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke", token_views.token_delete, name="token-revoke"),
    path("projects/<int:pk>", views.project, name="project"),
    path("projects/<int:pk>/compare", views.compare, name="compare"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})$", views.run, name="run"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/metric-history$", views.metric_history, name="metric-history"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/artifacts$", views.run_artifacts, name="run-artifacts"),
]
