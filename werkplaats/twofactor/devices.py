"""A person's second factors: the authenticator app, the recovery codes and passkeys."""

import base64

import segno
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import transaction
from django.dispatch import Signal
from django_otp import devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from .sessions import end_sessions

APP_NAME = "Authenticator-app"
RECOVERY_NAME = "Herstelcodes"
RECOVERY_CODES = 10
RESET_MESSAGE = "Tweede factor gewist: stelt die opnieuw in bij de volgende keer inloggen."


def is_verified(user):
    """True once this session's user gave a second factor (django-otp's OTPMiddleware installs
    is_verified(); a user without it, e.g. right after auth.login, has not)."""
    check = getattr(user, "is_verified", None)
    if check is not None:
        return check()
    return getattr(user, "otp_device", None) is not None


def needs_setup(user):
    """An account without any confirmed second factor sets one up before anything else."""
    return not user_has_device(user, confirmed=True)


def has_passkey(user):
    return WebAuthnCredential.objects.filter(user=user, confirmed=True).exists()


def code_devices(user):
    """The confirmed devices that accept a typed code: the app and the recovery codes."""
    return [
        device
        for device in devices_for_user(user, confirmed=True)
        if isinstance(device, TOTPDevice | StaticDevice)
    ]


def app_to_set_up(user):
    """The authenticator app being set up: one unconfirmed device, the same on every visit
    until a code confirms it, so a reload does not change the QR code just scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=False)
    return device


def add_app(user, secret=None):
    """A confirmed authenticator app for `user`, with `secret` (base32, as apps show it) if
    given: for the commands that make accounts with a known secret."""
    options = {"key": key_from_secret(secret)} if secret else {}
    return TOTPDevice.objects.create(user=user, name=APP_NAME, confirmed=True, **options)


def key_from_secret(secret):
    """A base32 secret ("JBSW Y3DP ...", any case, padding optional) as django-otp stores it:
    hex. Raises ValueError for anything else, or for fewer than 80 bits (RFC 4226's minimum)."""
    text = "".join(secret.split()).upper().rstrip("=")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError) as error:
        raise ValueError("not base32") from error
    if len(key) < 10:
        raise ValueError("shorter than 80 bits")
    return key.hex()


def secret(device):
    """The secret as an app asks for it when typed in: base32, without padding."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_code_svg(device):
    """The otpauth:// address as an SVG QR code, drawn here (no outside service sees it)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, title="QR-code voor je authenticator-app", dark="#000", light="#fff"
    )


@transaction.atomic
def new_recovery_codes(user):
    """Ten new one-time codes; the old ones stop working. Each works once (django-otp's
    StaticDevice removes a code when it is used)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def has_recovery_codes(user):
    return StaticDevice.objects.filter(user=user).exists()


@transaction.atomic
def reset_second_factor(user, by):
    """Remove every second factor of `user` and end their sessions: at the next sign-in they
    set one up again. Recorded in the admin's history of the account."""
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    WebAuthnCredential.objects.filter(user=user).delete()
    end_sessions(user)
    record(by, user, RESET_MESSAGE)


# Sent when a second factor was reset, as Django's auth sends user_logged_in: the access log
# (registrations/accesslog/signals.py) records it, and this toolkit imports no app.
second_factor_reset = Signal()


def record(by, user, message):
    """The one place a change to someone's sign-in is written down: the admin's LogEntry of
    their account (shown in its history), and the second_factor_reset signal."""
    LogEntry.objects.log_actions(
        user_id=by.pk, queryset=[user], action_flag=CHANGE, change_message=message
    )
    second_factor_reset.send(sender=type(user), by=by, user=user)
