from datetime import timedelta

import factory
from django.utils import timezone

from accounts.tests.factories import UserFactory
from tokens.models import PersonalAccessToken, TokenScope, token_digest


class PersonalAccessTokenFactory(factory.django.DjangoModelFactory):
    """A token whose secret the test chooses (`secret=`), stored as the service stores it: digest and prefix only."""

    class Meta:
        model = PersonalAccessToken

    class Params:
        secret = factory.Sequence(lambda n: f"reg_pat_factory{n:036d}")

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"token {n}")
    scope = TokenScope.WRITE
    token_prefix = factory.LazyAttribute(lambda token: token.secret[:16])
    digest = factory.LazyAttribute(lambda token: token_digest(token.secret))
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=90))
