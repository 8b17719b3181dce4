"""Every e-mail about a registration, rendered from templates/emails/<name>_{subject,body}.

What each mail says lives here (rendering and sending are werkplaats/mail.py's); *when* it
goes out is decided by the view, admin action or command that causes it, which queues a task
(tasks.py).
"""

from django.conf import settings
from django.utils import timezone

from programme.ics import edition_calendar
from werkplaats.mail import render_message, send_logged


def confirmation_message(registration, from_waiting_list=False, as_substitute=False, change=None):
    """The participant's confirmation with the summary, their link and the .ics file; for
    someone confirmed from the waiting list, the news that a place came free; for a
    substitute, which colleague handed them the place (`change`). Someone signed up by
    another person is told by whom and how to reach her, so the mail is not a stranger's."""
    edition = registration.edition
    order = registration.order
    return render_message(
        "registration_confirmation",
        {
            "registration": registration,
            "edition": edition,
            "order": order,
            "signed_up_by_booker": not as_substitute and not order.booker_is(registration.email),
            "from_waiting_list": from_waiting_list,
            "as_substitute": as_substitute,
            "change": change,
            "by_booker": _for_someone_else(change),
            "practical_contact": edition.practical_contact,
        },
        [registration.email],
        attachments=[
            (f"werkplaats-{edition.slug}.ics", edition_calendar(edition), "text/calendar")
        ],
    )


def _for_someone_else(change):
    """Whether the booker made `change` for a colleague (not for her own place)."""
    if change is None or not change.by_booker:
        return False
    return not change.registration.order.booker_is(change.previous_email or "")


def send_confirmation(registration, from_waiting_list=False, as_substitute=False, change=None):
    message = confirmation_message(registration, from_waiting_list, as_substitute, change)
    sent = send_logged(message, registration.reference, "confirmation")
    if sent:
        registration.confirmation_sent_at = timezone.now()
        registration.save(update_fields=["confirmation_sent_at", "updated_at"])
    return sent


def send_waiting_list_offer(offer):
    """A place is free: the personal offer link, and until when it is held."""
    registration = offer.registration
    message = render_message(
        "waiting_list_offer",
        {"offer": offer, "registration": registration, "edition": registration.edition},
        [registration.email],
    )
    sent = send_logged(message, registration.reference, "waiting-list offer")
    if sent:
        offer.emailed_at = timezone.now()
        offer.save(update_fields=["emailed_at"])
    return sent


def _order_context(order, positions=None):
    """`positions`: the order's registrations in order, when the caller read them already."""
    return {
        "order": order,
        "edition": order.edition,
        "positions": list(order.positions.order_by("pk")) if positions is None else positions,
    }


def send_order_overview(order, positions=None):
    """For whoever signed up colleagues: every participant and their status, and what the
    order costs excl. and incl. btw (what a purchase order needs), in one mail."""
    context = {**_order_context(order, positions), "totals": order.totals()}
    message = render_message("order_overview", context, [order.email])
    return send_logged(message, order.reference, "order overview")


def notify_staff_of_order(order, positions=None):
    message = render_message(
        "staff_new_registration",
        _order_context(order, positions),
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, order.reference, "staff notification")


def notify_staff_of_cancellation(registration):
    message = render_message(
        "staff_cancellation",
        {"registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, registration.reference, "staff cancellation notice")


def cancellation_message(registration, by_booker=False):
    """The cancellation, with what it costs as far as staff wrote it down, and a calendar
    cancellation (METHOD:CANCEL, same UID) so the event leaves the participant's agenda;
    when the booker cancelled, who she is."""
    edition = registration.edition
    return render_message(
        "registration_cancelled",
        {
            "registration": registration,
            "edition": edition,
            "order": registration.order,
            "by_booker": by_booker,
            "practical_contact": edition.practical_contact,
        },
        [registration.email],
        attachments=[
            (
                f"werkplaats-{edition.slug}-geannuleerd.ics",
                edition_calendar(edition, cancelled=True),
                "text/calendar",
            )
        ],
    )


def send_cancellation_confirmation(registration, by_booker=False):
    message = cancellation_message(registration, by_booker)
    return send_logged(message, registration.reference, "cancellation confirmation")


def notify_staff_of_change(change):
    registration = change.registration
    message = render_message(
        "staff_registration_change",
        {"change": change, "registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, registration.reference, "staff change notice")


def notify_booker(registration, kind, offer=None, change=None):
    """Whoever signed up the order hears of a change to it (`kind`: cancelled, choices,
    substitute, offered, confirmed), with the order as it is now and its totals."""
    order = registration.order
    context = {
        **_order_context(order),
        "kind": kind,
        "registration": registration,
        "offer": offer,
        "change": change,
        "totals": order.totals(),
    }
    message = render_message("booker_notice", context, [order.email])
    return send_logged(message, registration.reference, f"booker notice ({kind})")


def send_handed_over(change):
    """To whoever handed their place to a substitute: it went, to whom, and that their
    link no longer works."""
    registration = change.registration
    edition = registration.edition
    message = render_message(
        "place_handed_over",
        {
            "change": change,
            "by_booker": _for_someone_else(change),
            "registration": registration,
            "order": registration.order,
            "edition": edition,
            "practical_contact": edition.practical_contact,
        },
        [change.previous_email],
    )
    return send_logged(message, registration.reference, "handed-over notice")


def send_personal_link(registration):
    message = render_message(
        "personal_link",
        {"registration": registration, "edition": registration.edition},
        [registration.email],
    )
    return send_logged(message, registration.reference, "personal link")


def notify_staff_of_retention(edition, due, count):
    """Thirty days ahead: the edition's participants will be anonymised on `due`."""
    message = render_message(
        "staff_retention_notice",
        {"edition": edition, "due": due, "count": count},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, f"edition {edition.pk}", "retention notice")
