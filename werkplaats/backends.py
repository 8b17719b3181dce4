from axes.backends import AxesStandaloneBackend


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
