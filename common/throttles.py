import hashlib
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from rest_framework import status
from rest_framework.throttling import SimpleRateThrottle

from common.text import fold

# OWASP's device cookies (Slow Down Online Guessing Attacks with Device Cookies): a client that has proved an
# account's password receives a signed cookie naming the account and a random nonce; its later attempts at that account
# are counted per device, apart from everyone else's, so that strangers' failures do not lock the owner out.
DEVICE_COOKIE = "registry_device"
DEVICE_COOKIE_SALT = "common.throttles.device"
DEVICE_COOKIE_MAX_AGE = 90 * 24 * 60 * 60


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


def trusted_device(request, account: str | None) -> str | None:
    """The nonce of the request's device cookie when it is validly signed, unexpired and issued for `account`."""
    if account is None:
        return None
    value = request.get_signed_cookie(
        DEVICE_COOKIE, default=None, salt=DEVICE_COOKIE_SALT, max_age=DEVICE_COOKIE_MAX_AGE
    )
    pk, _, nonce = (value or "").partition(":")
    return nonce if nonce and f"user-{pk}" == account else None


def remember_device(request, response, user) -> None:
    """Give the client that has just proved `user`'s password a new device cookie for that account."""
    response.set_signed_cookie(
        DEVICE_COOKIE,
        f"{user.pk}:{secrets.token_urlsafe(18)}",
        salt=DEVICE_COOKIE_SALT,
        max_age=DEVICE_COOKIE_MAX_AGE,
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )


class AuthThrottle(LockedRateThrottle):
    """A limit on one kind of attempt (`bucket`) at doors that act on the account their `field` names (None: the
    caller's own), counted per `ident`; see `throttles_for` and `password_throttles`."""

    bucket = "any"
    field: str | None = None
    # Whether only failures count and a device cookie for the account counts the attempt per device instead.
    failures_only = False

    @classmethod
    def configured(cls, *, bucket: str, field: str | None, failures_only: bool) -> type["AuthThrottle"]:
        attributes = {"bucket": bucket, "field": field, "failures_only": failures_only}
        return type(f"{bucket.title()}{cls.__name__}", (cls,), attributes)

    def device(self, request) -> str | None:
        return trusted_device(request, account_named(request, self.field)) if self.failures_only else None

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        ident = self.ident(request)
        if ident is None:
            return None
        return self.cache_format % {"scope": f"{self.scope}_{self.bucket}", "ident": ident}


class AddressThrottle(AuthThrottle):
    """Attempts per client address (see NUM_PROXIES for which address that is), except those of a trusted device."""

    scope = "auth_address"

    def ident(self, request) -> str | None:
        return None if self.device(request) is not None else self.get_ident(request)


class AccountThrottle(AuthThrottle):
    """Attempts per account the door acts on, from whatever address; a trusted device's attempts per device."""

    scope = "auth_account"

    def ident(self, request) -> str | None:
        account = account_named(request, self.field)
        device = trusted_device(request, account) if self.failures_only else None
        return f"device-{device}" if device is not None else account


def throttles_for(bucket: str, *, field: str | None = None) -> list[type[AuthThrottle]]:
    """The policy for one kind of attempt: AUTH_THROTTLE_RATE per client address and, apart, per account (the one
    `field` names, or the caller's own), every attempt counted.

    Buckets: `register` for sign-ups; `lookup` for naming users by username or e-mail (adding members, transfers),
    which would otherwise tell anyone which accounts exist; `token` for creating personal access tokens; `reset` for
    password reset mails. See `password_throttles` for the doors that check a password.
    """
    return [
        throttle.configured(bucket=bucket, field=field, failures_only=False)
        for throttle in (AddressThrottle, AccountThrottle)
    ]


def password_throttles(*, field: str | None = None) -> list[type[AuthThrottle]]:
    """The policy for every door that checks a password, in one bucket so that failing at one door uses up the others:
    AUTH_THROTTLE_RATE failures per client address and, apart, per account; successes are not counted.

    A client holding a device cookie for the account (`remember_device`, given at each successful login) is counted
    per device instead, neither per address nor per account, so that strangers' failures do not lock the owner out;
    a device that fails too often is refused like anyone else.
    """
    return [
        throttle.configured(bucket="password", field=field, failures_only=True)
        for throttle in (AddressThrottle, AccountThrottle)
    ]


# The logins name their account in `username`; a password change acts on the caller's own, and a reset confirmation
# (anonymous, naming its account by a signed token) is counted per address.
LOGIN_THROTTLES = password_throttles(field="username")
PASSWORD_THROTTLES = password_throttles()
REGISTRATION_THROTTLES = throttles_for("register", field="email")
LOOKUP_THROTTLES = throttles_for("lookup")
# Password reset mails, per address and per e-mail asked for; personal access tokens created, per address and account.
RESET_THROTTLES = throttles_for("reset", field="email")
TOKEN_THROTTLES = throttles_for("token")


class Attempt:
    """One attempt at a door under `throttles`, allowed and counted by every throttle or refused and counted by none;
    `succeeded()` takes it back from the throttles that count failures only."""

    def __init__(self, request, throttles, view=None):
        self.request, self.view = request, view
        self.throttles = [throttle() if isinstance(throttle, type) else throttle for throttle in throttles]

    def refusal(self) -> float | None:
        """The seconds to wait if a throttle refuses the attempt, else None (go on: the attempt is counted)."""
        waits = [throttle.wait() for throttle in self.throttles if not throttle.reserve(self.request, self.view)]
        if not waits:
            return None
        for throttle in self.throttles:
            throttle.release()
        return max(wait or 1 for wait in waits)

    def succeeded(self) -> None:
        for throttle in self.throttles:
            if throttle.failures_only:
                throttle.release()


class AttemptThrottledMixin:
    """For a ViewSet with password doors: each request is one `Attempt` under the action's throttles, taken back from
    those that count failures only when the answer is a success (2xx)."""

    def check_throttles(self, request):
        self.attempt = Attempt(request, self.get_throttles(), view=self)
        wait = self.attempt.refusal()
        if wait is not None:
            self.throttled(request, wait)

    def finalize_response(self, request, response, *args, **kwargs):
        attempt = getattr(self, "attempt", None)
        if attempt is not None and status.is_success(response.status_code):
            attempt.succeeded()
        return super().finalize_response(request, response, *args, **kwargs)
