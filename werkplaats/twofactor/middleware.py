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
        session = request.session
        if SESSION_KEY in session:
            now = int(timezone.now().timestamp())
            last = session.get(LAST_SEEN)
            if last is not None and now - last > settings.BACKOFFICE_IDLE_MINUTES * 60:
                logout(request)
            elif last is None or now - last >= RESOLUTION:
                session[LAST_SEEN] = now
        return self.get_response(request)
