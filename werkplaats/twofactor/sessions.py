"""Back-office sessions: the lockout counts wrong codes, and signing out ends them all."""

from importlib import import_module

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import SESSION_KEY, user_login_failed
from django.contrib.sessions.models import Session
from django.utils import timezone


def credentials(user):
    return {"username": user.get_username()}


def locked_out(request, user):
    """True when django-axes refuses this client (too many wrong passwords or codes); the
    request is marked so that AxesMiddleware answers with the lockout page."""
    if AxesProxyHandler.is_allowed(request, credentials(user)):
        return False
    request.axes_locked_out = True
    request.axes_credentials = credentials(user)
    return True


def count_wrong_code(request, user):
    """A wrong code counts like a wrong password: django-axes records the failure in the
    database (shared by every worker and server) and locks the address at the limit.
    Returns whether this one locked it."""
    user_login_failed.send(sender=__name__, credentials=credentials(user), request=request)
    return bool(getattr(request, "axes_locked_out", False))


def end_sessions(user):
    """End every session of `user`, on every device. Sessions are few (only back-office
    accounts sign in), so each one still valid is read to find whose it is."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.get_decoded().get(SESSION_KEY) == str(user.pk):
            # Through the engine, so a cached copy (cached_db with Redis) goes too.
            store(session_key=session.session_key).delete()
