import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class AuthAddressThrottle(SimpleRateThrottle):
    """Login and registration attempts per client address, at AUTH_THROTTLE_RATE, counted in the shared cache."""

    scope = "auth_address"

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUsernameThrottle(SimpleRateThrottle):
    """Login and registration attempts per username, whatever address they come from, at AUTH_THROTTLE_RATE."""

    scope = "auth_username"

    def get_rate(self) -> str:
        return settings.AUTH_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str | None:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None
        # Hashed, so that any string a client sends makes a valid, bounded cache key.
        ident = hashlib.sha256(username.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}
