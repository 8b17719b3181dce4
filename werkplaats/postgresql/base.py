"""Django's PostgreSQL backend with a health check that costs no round trip.

With persistent connections (DATABASE_CONN_MAX_AGE) Django checks a reused connection at the
start of each request (CONN_HEALTH_CHECKS) by sending it `SELECT 1`: a round trip to the
server on every request that touches the database, as much as the one query a workshop page
needs. A connection the server closed (a restart, a terminated backend, an idle timeout) has
the server's goodbye waiting on its socket: an idle connection that has something to read,
or that psycopg knows is broken, is not used again and Django opens a new one. A restarted
database thus still costs a reconnect, not an error page.
"""

import select

from django.db.backends.postgresql import base
from psycopg import pq


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        if self.connection is None or self.connection.closed:
            return False
        pgconn = self.connection.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            return False
        # Between requests nothing is in flight: a healthy server says nothing.
        readable, _, _ = select.select([pgconn.socket], [], [], 0)
        return not readable
