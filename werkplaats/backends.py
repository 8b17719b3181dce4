from functools import cache

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check for every login that comes in through a request.

    A login form always passes the request. Code that calls authenticate() without one
    (Django's test client, a shell) has no client address to lock out; plain Axes would
    raise there, so this backend steps aside and the next backend decides.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


class UserBackend(ModelBackend):
    """Django's ModelBackend, reading the logged-in user with one plain query.

    Every request of someone logged in reads their row (AuthenticationMiddleware): Django
    builds that ORM query anew each time, which costs more CPU than running it (~0.1-0.2 ms,
    a tenth of an invoice download). The row is still read on every request, so a user made
    inactive, or a new password, takes effect at once; permissions are ModelBackend's own.
    """

    def get_user(self, user_id):
        user = next(iter(get_user_model()._default_manager.raw(user_sql(), [user_id])), None)
        return user if user is not None and self.user_can_authenticate(user) else None


@cache
def user_sql():
    model = get_user_model()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
    table = connection.ops.quote_name(model._meta.db_table)
    pk = connection.ops.quote_name(model._meta.pk.column)
    return f"SELECT {columns} FROM {table} WHERE {pk} = %s"
