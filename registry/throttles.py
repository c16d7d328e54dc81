import hashlib
import time

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class LockedRateThrottle(SimpleRateThrottle):
    """REST framework's sliding-window rate limit, counted under a lock so that it holds across workers.

    REST framework reads the list of recent attempts from the cache, appends and writes it back; requests in other
    workers doing the same at once overwrite each other's attempts and let more through than the rate allows. Here
    that read-append-write happens while holding a per-key lock taken with `cache.add()`, which is atomic in the shared
    caches (an INSERT into the database cache's unique key, SET NX in Redis). A lock left by a crashed worker expires
    after LOCK_SECONDS; a request that cannot get the lock within WAIT_SECONDS is throttled rather than let through.
    """

    LOCK_SECONDS = 2
    WAIT_SECONDS = 1.0

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        lock = f"{key}:lock"
        deadline = time.monotonic() + self.WAIT_SECONDS
        while not self.cache.add(lock, 1, self.LOCK_SECONDS):
            if time.monotonic() > deadline:
                self.key, self.now = key, self.timer()
                self.history = self.cache.get(key, [])
                return self.throttle_failure()
            time.sleep(0.01)
        try:
            return super().allow_request(request, view)
        finally:
            self.cache.delete(lock)


def _scope(throttle: SimpleRateThrottle, view) -> str:
    # Logins and registrations are counted apart, so that signing up does not use up the attempts to log in.
    return f"{throttle.scope}_{getattr(view, 'action', None) or 'any'}"


class AuthAddressThrottle(LockedRateThrottle):
    """Login and registration attempts per client address, at AUTH_THROTTLE_RATE each, counted in the shared cache."""

    scope = "auth_address"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": _scope(self, view), "ident": self.get_ident(request)}


class AuthUsernameThrottle(LockedRateThrottle):
    """Login and registration attempts per username, whatever address they come from, at AUTH_THROTTLE_RATE each."""

    scope = "auth_username"

    def get_cache_key(self, request, view) -> str | None:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None
        # Hashed, so that any string a client sends makes a valid, bounded cache key.
        ident = hashlib.sha256(username.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": _scope(self, view), "ident": ident}
