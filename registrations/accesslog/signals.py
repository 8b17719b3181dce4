"""Every sign-in, and every failed one, as Django's auth reports it (axes listens too)."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .log import Kind, record


@receiver(user_logged_in, dispatch_uid="accesslog_sign_in")
def signed_in(sender, request, user, **kwargs):
    record(Kind.SIGN_IN, "Aangemeld", user=user, request=request)


@receiver(user_login_failed, dispatch_uid="accesslog_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the name is kept.
    username = str(credentials.get("username", ""))
    record(Kind.SIGN_IN_FAILED, "Aanmelding mislukt", request=request, username=username)
