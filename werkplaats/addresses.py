"""The client's address, one rule for the sign-up rate limit, the lockout and the access log."""

from django.conf import settings


def client_address(request):
    # Behind a proxy, REMOTE_ADDR is the proxy; the proxy appends the client's address
    # as the last X-Forwarded-For entry, the only one it vouches for.
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")
