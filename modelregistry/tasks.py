"""The mail to a project's maintainers when an alias of one of its registered models moves: queued through Django Q2
(common.mail) when the change commits, its text made by the task worker when it sends, from the change as stored."""

from django.db.models import Q

from accounts.models import User
from common.mail import mail_send_on_commit
from modelregistry.models import AliasChange
from projects.models import ProjectMembership, ProjectRole

SUBJECT_MAX_LENGTH = 150


def _recipients(change: AliasChange) -> list[str]:
    """The project's owner and its live maintainers, the one who moved the alias left out: they know."""
    project = change.registered_model.project
    maintainers = ProjectMembership.objects.active().filter(project=project, role=ProjectRole.MAINTAINER)
    users = User.objects.filter(Q(pk=project.owner_id) | Q(pk__in=maintainers.values("user_id")), is_active=True)
    if change.actor_id is not None:
        users = users.exclude(pk=change.actor_id)
    return sorted({user.email for user in users if user.email})


def _subject(change: AliasChange) -> str:
    model = change.registered_model
    return f"[Registry] {model.name}@{change.alias} {_move(change)}"[:SUBJECT_MAX_LENGTH]


def _move(change: AliasChange) -> str:
    if change.from_version is None:
        return f"now points at version {change.to_version}"
    if change.to_version is None:
        return f"removed (it pointed at version {change.from_version})"
    return f"moved from version {change.from_version} to {change.to_version}"


def alias_change_mail_body(change_id: int) -> str | None:
    """The mail's text, made when the worker sends it; None (nothing to send) once the model is gone."""
    change = AliasChange.objects.select_related("registered_model__project", "actor").filter(pk=change_id).first()
    if change is None:
        return None
    model = change.registered_model
    who = change.actor.username if change.actor is not None else "a deleted account"
    when = change.changed_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"The alias @{change.alias} of the registered model {model.name!r} in the project {model.project.name!r} "
        f"{_move(change)}.\n\n"
        f"Changed by {who} at {when}.\n\n"
        f"Clients that load models:/{model.name}@{change.alias} now get "
        f"{'version ' + str(change.to_version) if change.to_version is not None else 'an error'}.\n\n"
        "You receive this mail as a maintainer of the project.\n"
    )


def alias_change_notify(change: AliasChange) -> int:
    """Queue one mail to each maintainer of the model's project (the owner included) once the change commits; the
    number queued."""
    recipients = _recipients(change)
    for address in recipients:
        mail_send_on_commit(
            to=[address],
            subject=_subject(change),
            body_from=("modelregistry.tasks.alias_change_mail_body", [change.pk]),
        )
    return len(recipients)
