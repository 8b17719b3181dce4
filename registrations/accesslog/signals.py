"""Every sign-in, and every failed one, as Django's auth reports it (axes listens too), and
every reset of someone's second factor, as the back office's sign-in reports it."""

from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from werkplaats.twofactor.devices import second_factor_reset

from . import log


@receiver(user_logged_in, dispatch_uid="accesslog_sign_in")
def signed_in(sender, request, user, **kwargs):
    log.sign_in(user, request)


@receiver(user_login_failed, dispatch_uid="accesslog_sign_in_failed")
def sign_in_failed(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the name is kept.
    username = str(credentials.get("username", ""))
    log.failed_sign_in(username, request)


@receiver(second_factor_reset, dispatch_uid="accesslog_second_factor_reset")
def second_factor_was_reset(sender, by, user, **kwargs):
    log.second_factor_reset(by, user)
