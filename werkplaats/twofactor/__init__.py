"""Two-factor sign-in for the back office.

Every account that signs in to /beheer/ gives a second factor after its password: a code from
an authenticator app (TOTP), a one-time recovery code, or a passkey (WebAuthn). django-otp and
django-otp-webauthn do the cryptography; this package holds our rules (`devices.py`: set-up,
recovery codes, reset; `sessions.py`: the lockout and ending sessions), the pages (`views.py`,
joined into the admin by werkplaats/admin_site.py) and the idle timeout (`middleware.py`).
"""
