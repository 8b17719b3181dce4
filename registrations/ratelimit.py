"""A per-client limit on sign-up POSTs, counted in the database.

A cache in each process would let every gunicorn worker and app server grant the limit anew;
one row per client and scope in the database (RateLimit) is the same count for all of them.
The window is fixed: it starts at the first hit and lasts REGISTRATION_RATE_WINDOW seconds.
"""

import datetime
import math

from django.conf import settings
from django.db import connection
from django.utils import timezone

from werkplaats.addresses import client_address

from .models import RateLimit

# One statement counts a hit: it inserts the client's row, or adds one to it, or starts a new
# window when the old one ended. Atomic in PostgreSQL (the row is locked by the upsert) and in
# SQLite (one writer at a time), so parallel hits of one client are each counted once, whichever
# worker or app server they reach. Django's ORM has no upsert with expressions; both databases
# speak this one.
UPSERT = """
INSERT INTO {table} (key, window_ends, hits) VALUES (%s, %s, 1)
ON CONFLICT (key) DO UPDATE SET
    hits = CASE WHEN {table}.window_ends <= %s THEN 1 ELSE {table}.hits + 1 END,
    window_ends = CASE WHEN {table}.window_ends <= %s
        THEN excluded.window_ends ELSE {table}.window_ends END
RETURNING hits, window_ends
"""


def post_limit_exceeded(request, scope):
    """Count this request. None while the client is within the limit; once over it, the whole
    seconds until the window ends (for Retry-After)."""
    # A forwarded address is whatever the proxy passed on: cut it to the column's length.
    key = f"{scope}:{client_address(request)}"[: RateLimit._meta.get_field("key").max_length]
    window = datetime.timedelta(seconds=settings.REGISTRATION_RATE_WINDOW)
    now = timezone.now()
    sql = UPSERT.format(table=connection.ops.quote_name(RateLimit._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, now + window, now, now])
        hits, window_ends = cursor.fetchone()
    if hits == 1:
        # A new window is the moment to forget clients whose window ended long ago: one indexed
        # DELETE, not on every hit.
        RateLimit.objects.filter(window_ends__lt=now - window).delete()
    if hits <= settings.REGISTRATION_RATE_LIMIT:
        return None
    if isinstance(window_ends, str):  # SQLite returns RETURNING timestamps as text
        window_ends = datetime.datetime.fromisoformat(window_ends)
    if timezone.is_naive(window_ends):
        window_ends = timezone.make_aware(window_ends, datetime.UTC)
    return max(1, math.ceil((window_ends - now).total_seconds()))
