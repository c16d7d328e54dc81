from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Case, IntegerField, Q, Value, When


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend, letting a user log in with their username or their e-mail, in any case.

    Django's own backend looks up the username only. A username that equals another account's e-mail wins, so that
    an account can never be reached through somebody else's name.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        user_model = get_user_model()
        user = (
            user_model._default_manager.filter(Q(username__iexact=username) | Q(email__iexact=username))
            .order_by(
                Case(When(username__iexact=username, then=Value(0)), default=Value(1), output_field=IntegerField())
            )
            .first()
        )
        if user is None:
            # Hash anyway, so that an unknown name takes as long as a wrong password (as ModelBackend does).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
