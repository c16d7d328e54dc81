"""The reads of personal access tokens that other code uses (the web UI first)."""

from django.db.models import QuerySet

from tokens.models import PersonalAccessToken


def token_list(*, user) -> QuerySet[PersonalAccessToken]:
    """`user`'s own tokens, newest first (nobody else's, staff included)."""
    return PersonalAccessToken.objects.visible_to(user).order_by("-created_at", "-id")


def token_get(*, user, pk: int) -> PersonalAccessToken | None:
    """Token `pk` if it is `user`'s, else None (someone else's is not found either)."""
    return token_list(user=user).filter(pk=pk).first()
