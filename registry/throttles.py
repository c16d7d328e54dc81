import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework.throttling import SimpleRateThrottle

from registry.text import fold


class LockedRateThrottle(SimpleRateThrottle):
    """REST framework's sliding-window rate limit, counted under a lock so that it holds across workers.

    REST framework reads the list of recent attempts from the cache, appends and writes it back; requests in other
    workers doing the same at once overwrite each other's attempts and let more through than the rate allows. Here
    that read-append-write happens while holding a per-key lock taken with `cache.add()`, which is atomic in the shared
    caches (an INSERT into the database cache's unique key, SET NX in Redis). A lock left by a crashed worker expires
    after LOCK_SECONDS; a request that cannot get the lock within WAIT_SECONDS is throttled rather than let through.

    `reserve()` allows and counts an attempt before the work it guards; `release()` takes that count back once the
    attempt turns out not to count (it succeeded at a door that counts failures only, or another throttle refused it).
    Counting first and taking back later, rather than checking first and counting a failure later, keeps the limit
    exact while attempts are in flight: concurrent attempts in every worker each hold a slot until their outcome is
    known, so no more than the rate can be failing at once.
    """

    LOCK_SECONDS = 2
    WAIT_SECONDS = 1.0

    reserved: tuple[str, float] | None = None

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    @contextmanager
    def _locked(self, key: str) -> Iterator[bool]:
        """Hold the lock of `key`; yields False if it could not be taken within WAIT_SECONDS."""
        lock = f"{key}:lock"
        deadline = time.monotonic() + self.WAIT_SECONDS
        while not self.cache.add(lock, 1, self.LOCK_SECONDS):
            if time.monotonic() > deadline:
                yield False
                return
            time.sleep(0.01)
        try:
            yield True
        finally:
            self.cache.delete(lock)

    def allow_request(self, request, view) -> bool:
        """REST framework's entry point: every attempt allowed is counted."""
        return self.reserve(request, view)

    def reserve(self, request, view) -> bool:
        """Allow the attempt and count it, or refuse it (then `wait()` tells for how long)."""
        self.reserved = None
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        with self._locked(key) as held:
            self.key, self.now = key, self.timer()
            self.history = [stamp for stamp in self.cache.get(key, []) if stamp > self.now - self.duration]
            if not held or len(self.history) >= self.num_requests:
                return self.throttle_failure()
            self.history.insert(0, self.now)
            self.cache.set(key, self.history, self.duration)
        self.reserved = (key, self.now)
        return True

    def release(self) -> None:
        """Take back the attempt `reserve()` counted, if it counted one."""
        if self.reserved is None:
            return
        key, stamp = self.reserved
        self.reserved = None
        with self._locked(key) as held:
            if not held:
                # Left counted: a slot taken until the window passes is safer than an attempt forgotten.
                return
            history = self.cache.get(key, [])
            if stamp in history:
                history.remove(stamp)
                self.cache.set(key, history, self.duration)


def account_named(request, field: str | None) -> str | None:
    """The key of the account a door acts on: `user-<pk>`, or None when the request names none.

    `field` is the body field the door reads the account from (`username` takes a username or an e-mail, read as
    `UserQuerySet.identified_by` reads it; `email` an e-mail only); None means the caller's own account. A name that
    no account holds gets a key of its own, so that an unknown name is counted exactly like a known one.
    """
    if field is None:
        user = getattr(request, "user", None)
        return f"user-{user.pk}" if user is not None and user.is_authenticated else None
    data = request.data if hasattr(request, "data") else request.POST
    name = data.get(field) if hasattr(data, "get") else None
    if not isinstance(name, str) or not name.strip():
        return None
    users = get_user_model()._default_manager
    named = users.identified_by(name) if field != "email" or "@" in name else users.none()
    pk = named.values_list("pk", flat=True).first()
    if pk is not None:
        return f"user-{pk}"
    # Hashed, so that any string a client sends makes a valid, bounded cache key.
    return hashlib.sha256(fold(name.strip()).encode("utf-8", "surrogatepass")).hexdigest()


class AuthThrottle(LockedRateThrottle):
    """A limit on one kind of attempt (`bucket`) at doors that act on the account their `field` names (None: the
    caller's own), counted per `ident`; see `throttles_for`."""

    bucket = "any"
    field: str | None = None

    @classmethod
    def configured(cls, *, bucket: str, field: str | None) -> type["AuthThrottle"]:
        return type(f"{bucket.title()}{cls.__name__}", (cls,), {"bucket": bucket, "field": field})

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": f"{self.scope}_{self.bucket}", "ident": ident}


class AddressThrottle(AuthThrottle):
    """Attempts per client address (see NUM_PROXIES for which address that is)."""

    scope = "auth_address"

    def ident(self, request) -> str:
        return self.get_ident(request)


class AccountThrottle(AuthThrottle):
    """Attempts per account the door acts on, from whatever address."""

    scope = "auth_account"

    def ident(self, request) -> str | None:
        return account_named(request, self.field)


def throttles_for(bucket: str, *, field: str | None = None) -> list[type[AuthThrottle]]:
    """The policy for one kind of attempt: AUTH_THROTTLE_RATE per client address and, apart, per account (the one
    `field` names, or the caller's own): each door names the field it acts on, and no other field of the body counts.

    Buckets: `password` for every door that checks a password (API login, the admin's login, password changes), so
    that trying one door uses up the others; `register` for sign-ups; `lookup` for naming users by username or e-mail
    (adding members, transfers), which would otherwise tell anyone which accounts exist; `token` for creating
    personal access tokens; `reset` for password reset mails.
    """
    return [throttle.configured(bucket=bucket, field=field) for throttle in (AddressThrottle, AccountThrottle)]


# The logins name their account in `username`; a password change acts on the caller's own, and a reset confirmation
# (anonymous, naming its account by a signed token) is counted per address.
LOGIN_THROTTLES = throttles_for("password", field="username")
PASSWORD_THROTTLES = throttles_for("password")
REGISTRATION_THROTTLES = throttles_for("register", field="email")
LOOKUP_THROTTLES = throttles_for("lookup")


def first_refusal(request, throttles: list[type[AuthThrottle]]) -> float | None:
    """For views outside REST framework (the admin's login and password change): the seconds to wait if a throttle
    refuses, else None."""
    waits = [throttle.wait() for throttle in (cls() for cls in throttles) if not throttle.allow_request(request, None)]
    return max((wait or 1 for wait in waits), default=None)
