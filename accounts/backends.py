from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend, letting a user log in with their username or their e-mail, in any case.

    The account is found by the one lookup rule (`UserQuerySet.identified_by`): a name with an `@` is an e-mail,
    any other a username, so no account can be reached through somebody else's name.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not isinstance(username, str) or password is None:
            return None
        user_model = get_user_model()
        user = user_model._default_manager.identified_by(username).first()
        if user is None:
            # Hash anyway, so that an unknown name takes as long as a wrong password (as ModelBackend does).
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
