"""Recording in the access log: the one function every path calls, `record` with a `Kind`
of this module, e.g.
`record(Kind.EXPORT, "Deelnemerslijst (CSV)", request=request, count=42, edition=edition)`.

`request` gives who (its signed-in user) and from which address; `user` names someone else
(a job started by a person, a signal without a request). Call it where the data leaves:
the view that builds the download, not a signal or a middleware that guesses.
"""

import ipaddress

from werkplaats.addresses import client_address

from .models import AccessLogEntry

Kind = AccessLogEntry.Kind


def record(
    kind,
    what,
    *,
    user=None,
    request=None,
    count=None,
    edition=None,
    reference="",
    username=None,
):
    """Write one entry and return it.

    kind: an AccessLogEntry.Kind (EXPORT, BULK_ACTION, SIGN_IN, SIGN_IN_FAILED, INZAGE,
        ERASURE, SECOND_FACTOR_RESET).
    what: in Dutch, what was seen or done ("Presentielijst 12-05-2027 (PDF)"); no names.
    user: who; by default the request's signed-in user, else nobody (the system).
    request: the request it happened in, for the user and the client's address.
    count: how many people the data concerned, where that is known.
    edition: the edition it concerned, where there is one.
    reference: the object it concerned by reference or number (INS-00006, 2027-0012).
    username: the name typed at a failed sign-in (there is no user then).
    """
    return _write(kind, what, user, request, count, edition, reference, username)


def sign_in(user, request):
    """A sign-in (Django's user_logged_in)."""
    return _write(Kind.SIGN_IN, "Aangemeld", user, request, None, None, "", None)


def second_factor_reset(by, user):
    """A superuser removed someone's second factor (werkplaats/twofactor/devices.py)."""
    return _write(
        Kind.SECOND_FACTOR_RESET,
        "Tweede factor gewist",
        by,
        None,
        None,
        None,
        f"account {user.pk}",
        None,
    )


def failed_sign_in(username, request):
    """A failed sign-in (Django's user_login_failed), with the name that was typed."""
    return _write(
        Kind.SIGN_IN_FAILED, "Aanmelding mislukt", None, request, None, None, "", username
    )


# Its own name, not `record`: the check that no signal receiver reaches mail follows calls
# by name (tests/test_mail_is_queued_by_its_cause.py), and other functions are called record.
def _write(kind, what, user, request, count, edition, reference, username):
    signed_in = getattr(request, "user", None)
    if user is None and signed_in is not None and signed_in.is_authenticated:
        user = signed_in
    if username is None:
        username = user.get_username() if user is not None else ""
    return AccessLogEntry.objects.create(
        kind=kind,
        what=what[: AccessLogEntry._meta.get_field("what").max_length],
        user=user,
        username=username[:150],
        count=count,
        edition=edition,
        reference=reference[:200],
        address=_client_ip(request),
    )


def _client_ip(request):
    if request is None:
        return None
    try:
        return str(ipaddress.ip_address(client_address(request)))
    except ValueError:
        # A forwarded header that is not an address (or none, as in tests): record none.
        return None
