from django.conf import settings
from django.contrib.auth import SESSION_KEY, user_logged_out
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

LAST_SEEN = "backoffice_last_seen"
# The time of the last request is written at most once a minute, not on every request.
RESOLUTION = 60


class IdleTimeoutMiddleware:
    """Ends a back-office session after BACKOFFICE_IDLE_MINUTES without a request.

    Only back-office accounts sign in; a participant's visit has no login in its session
    (usually no session at all) and is left alone. Lazy, like AuthenticationMiddleware: the
    check runs when the view first asks who is signed in, so a request refused before that
    (RequestGuardMiddleware) reads no session, and a database that is down there gets the
    view's 503 (DatabaseUnavailableMiddleware).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        request.user = SimpleLazyObject(lambda: unless_idle(request, user))
        return self.get_response(request)


def unless_idle(request, user):
    """`user`, or nobody when their session has been idle too long (it is then ended)."""
    session = request.session
    if SESSION_KEY not in session:
        return user
    now = int(timezone.now().timestamp())
    last = session.get(LAST_SEEN) or signed_in_at(user, now)
    if now - last > settings.BACKOFFICE_IDLE_MINUTES * 60:
        # What django.contrib.auth.logout() does; it cannot be called here, inside the
        # evaluation of request.user, which it reads.
        user_logged_out.send(sender=user.__class__, request=request, user=user)
        session.flush()
        return AnonymousUser()
    if now - last >= RESOLUTION:
        session[LAST_SEEN] = now
    return user


def signed_in_at(user, now):
    """Before its first minute a session has no time of its own: the sign-in's (Django keeps
    it on the account), which spares a session write on the first page after signing in."""
    last_login = getattr(user, "last_login", None)
    return int(last_login.timestamp()) if last_login else now
