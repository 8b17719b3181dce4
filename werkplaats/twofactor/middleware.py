from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.utils import timezone

LAST_SEEN = "backoffice_last_seen"
# The time of the last request is written at most once a minute, not on every request.
RESOLUTION = 60


class IdleTimeoutMiddleware:
    """Ends a back-office session after BACKOFFICE_IDLE_MINUTES without a request.

    Only back-office accounts sign in; a participant's visit has no login in its session
    (usually no session at all) and is left alone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # In process_view, as late as can be: a request refused before (RequestGuardMiddleware)
        # reads no session.
        session = request.session
        if SESSION_KEY in session:
            now = int(timezone.now().timestamp())
            last = session.get(LAST_SEEN) or signed_in_at(request.user, now)
            if now - last > settings.BACKOFFICE_IDLE_MINUTES * 60:
                logout(request)
            elif now - last >= RESOLUTION:
                session[LAST_SEEN] = now


def signed_in_at(user, now):
    """Before its first minute a session has no time of its own: the sign-in's (Django keeps
    it on the account), which spares a session write on the first page after signing in."""
    last_login = getattr(user, "last_login", None)
    return int(last_login.timestamp()) if last_login else now
