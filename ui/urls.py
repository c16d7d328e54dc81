from django.urls import path, re_path

from ui import account_views, artifact_views, model_views, sharing_views, token_views, views

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
    path("invitations", sharing_views.invitations, name="invitations"),
    path("invitations/<int:pk>/accept", sharing_views.invitation_accept, name="invitation-accept"),
    path("invitations/<int:pk>/decline", sharing_views.invitation_decline, name="invitation-decline"),
    path("models", model_views.models, name="models"),
    path("models/<int:pk>", model_views.model, name="model"),
    path("projects/<int:pk>", views.project, name="project"),
    path("projects/<int:pk>/compare", views.compare, name="compare"),
    path("projects/<int:pk>/sharing", sharing_views.project_sharing, name="sharing"),
    path("projects/<int:pk>/sharing/invite", sharing_views.member_invite, name="member-invite"),
    path("projects/<int:pk>/sharing/members/<int:user_id>", sharing_views.member_change, name="member-change"),
    path("projects/<int:pk>/sharing/members/<int:user_id>/remove", sharing_views.member_remove, name="member-remove"),
    path(
        "projects/<int:pk>/sharing/invitations/<int:invitation_id>/cancel",
        sharing_views.project_invitation_cancel,
        name="project-invitation-cancel",
    ),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})$", views.run, name="run"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/metric-history$", views.metric_history, name="metric-history"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/artifacts$", artifact_views.run_artifacts, name="run-artifacts"),
    re_path(r"^runs/(?P<run_id>[0-9a-f]{32})/artifact$", artifact_views.run_artifact, name="run-artifact"),
]
