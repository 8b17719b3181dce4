"""A per-client limit on sign-up POSTs, kept in Django's cache."""

from django.conf import settings
from django.core.cache import cache


def client_address(request):
    # Behind a proxy, REMOTE_ADDR is the proxy; the proxy appends the client's address
    # as the last X-Forwarded-For entry, the only one it vouches for.
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def post_limit_exceeded(request, scope):
    """Count this request; True once the client went over the limit within the window."""
    key = f"ratelimit:{scope}:{client_address(request)}"
    cache.add(key, 0, timeout=settings.REGISTRATION_RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=settings.REGISTRATION_RATE_WINDOW)
        count = 1
    return count > settings.REGISTRATION_RATE_LIMIT
