from django import template

from projects.selectors import invitation_count

register = template.Library()


@register.simple_tag
def pending_invitations(user) -> int:
    """How many invitations `user` may still accept, for the header of every page."""
    return invitation_count(user=user) if user.is_authenticated else 0
