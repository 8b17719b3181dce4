"""A per-client limit on sign-up POSTs, counted in the database.

A cache in each process would let every gunicorn worker and app server grant the limit anew;
one row per client and scope in the database (RateLimit) is the same count for all of them.
The window is fixed: it starts at the first hit and lasts REGISTRATION_RATE_WINDOW seconds.
"""

import datetime
import math

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import RateLimit


def client_address(request):
    # Behind a proxy, REMOTE_ADDR is the proxy; the proxy appends the client's address
    # as the last X-Forwarded-For entry, the only one it vouches for.
    if settings.USE_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def post_limit_exceeded(request, scope):
    """Count this request. None while the client is within the limit; once over it, the whole
    seconds until the window ends (for Retry-After)."""
    # A forwarded address is whatever the proxy passed on: cut it to the column's length.
    key = f"{scope}:{client_address(request)}"[: RateLimit._meta.get_field("key").max_length]
    window = datetime.timedelta(seconds=settings.REGISTRATION_RATE_WINDOW)
    now = timezone.now()
    with transaction.atomic():
        # The row lock makes parallel hits of one client count one after the other. A racing
        # first hit fails its insert on the unique key and then waits for the winner's row.
        limit, created = RateLimit.objects.select_for_update().get_or_create(
            key=key, defaults={"window_ends": now + window, "hits": 1}
        )
        if not created:
            if limit.window_ends <= now:
                limit.window_ends, limit.hits = now + window, 1
            else:
                limit.hits += 1
            limit.save(update_fields=["window_ends", "hits"])
    if created:
        # A new client is the moment to forget those whose window ended long ago: one indexed
        # DELETE, outside the lock above, and not on every hit.
        RateLimit.objects.filter(window_ends__lt=now - window).delete()
    if limit.hits <= settings.REGISTRATION_RATE_LIMIT:
        return None
    return max(1, math.ceil((limit.window_ends - now).total_seconds()))
