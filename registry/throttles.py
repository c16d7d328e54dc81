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


class AuthThrottle(LockedRateThrottle):
    """A limit on one kind of attempt (`bucket`), counted per `ident`; see `throttles_for`."""

    bucket = "any"

    @classmethod
    def for_bucket(cls, bucket: str) -> type["AuthThrottle"]:
        return type(f"{bucket.title()}{cls.__name__}", (cls,), {"bucket": bucket})

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
    """Attempts per account, from whatever address: the caller's own when signed in, else the account the body names
    (its `username`, or its `email`, read as `UserQuerySet.identified_by` reads it), or the folded name itself when it
    names no account."""

    scope = "auth_account"

    def ident(self, request) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user-{user.pk}"
        data = request.data if hasattr(request, "data") else request.POST
        name = (data.get("username") or data.get("email")) if hasattr(data, "get") else None
        if not isinstance(name, str) or not name.strip():
            return None
        pk = get_user_model()._default_manager.identified_by(name).values_list("pk", flat=True).first()
        if pk is not None:
            return f"user-{pk}"
        # Hashed, so that any string a client sends makes a valid, bounded cache key.
        return hashlib.sha256(fold(name.strip()).encode("utf-8", "surrogatepass")).hexdigest()


def throttles_for(bucket: str) -> list[type[AuthThrottle]]:
    """The policy for one kind of attempt: AUTH_THROTTLE_RATE per client address and, apart, per account.

    Buckets: `password` for every door that checks a password (API login, the admin's login, password change), so
    that trying one door uses up the others; `register` for sign-ups; `lookup` for naming users by username or e-mail
    (adding members, transfers), which would otherwise tell anyone which accounts exist; `token` for creating
    personal access tokens.
    """
    return [AddressThrottle.for_bucket(bucket), AccountThrottle.for_bucket(bucket)]


PASSWORD_THROTTLES = throttles_for("password")
REGISTRATION_THROTTLES = throttles_for("register")
LOOKUP_THROTTLES = throttles_for("lookup")


def first_refusal(request, throttles: list[type[AuthThrottle]]) -> float | None:
    """For views outside REST framework (the admin's login): the seconds to wait if a throttle refuses, else None."""
    waits = [throttle.wait() for throttle in (cls() for cls in throttles) if not throttle.allow_request(request, None)]
    return max((wait or 1 for wait in waits), default=None)
