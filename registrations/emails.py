"""Every e-mail about a registration, rendered from templates/emails/<name>_{subject,body}.

What each mail says lives here (rendering and sending are werkplaats/mail.py's); *when* it
goes out is decided by the view, admin action or command that causes it, which queues a task
(tasks.py).
"""

from django.conf import settings
from django.utils import timezone

from programme.ics import edition_calendar
from werkplaats.mail import render_message, send_logged


def confirmation_message(registration, from_waiting_list=False, as_substitute=False):
    """The participant's confirmation with the summary, their link and the .ics file; for
    someone confirmed from the waiting list, the news that a place came free; for a
    substitute, that a colleague handed them the place."""
    edition = registration.edition
    return render_message(
        "registration_confirmation",
        {
            "registration": registration,
            "edition": edition,
            "from_waiting_list": from_waiting_list,
            "as_substitute": as_substitute,
            "practical_contact": edition.practical_contact,
        },
        [registration.email],
        attachments=[
            (f"werkplaats-{edition.slug}.ics", edition_calendar(edition), "text/calendar")
        ],
    )


def send_confirmation(registration, from_waiting_list=False, as_substitute=False):
    message = confirmation_message(registration, from_waiting_list, as_substitute)
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


def _order_context(order):
    return {
        "order": order,
        "edition": order.edition,
        "positions": list(order.positions.order_by("pk")),
    }


def send_order_overview(order):
    """For whoever signed up colleagues: every participant and their status, in one mail."""
    message = render_message("order_overview", _order_context(order), [order.email])
    return send_logged(message, order.reference, "order overview")


def notify_staff_of_order(order):
    message = render_message(
        "staff_new_registration", _order_context(order), [settings.STAFF_NOTIFICATION_EMAIL]
    )
    return send_logged(message, order.reference, "staff notification")


def notify_staff_of_cancellation(registration):
    message = render_message(
        "staff_cancellation",
        {"registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, registration.reference, "staff cancellation notice")


def cancellation_message(registration):
    """The cancellation, with what it costs as far as staff wrote it down, and a calendar
    cancellation (METHOD:CANCEL, same UID) so the event leaves the participant's agenda."""
    edition = registration.edition
    return render_message(
        "registration_cancelled",
        {
            "registration": registration,
            "edition": edition,
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


def send_cancellation_confirmation(registration):
    message = cancellation_message(registration)
    return send_logged(message, registration.reference, "cancellation confirmation")


def notify_staff_of_change(change):
    registration = change.registration
    message = render_message(
        "staff_registration_change",
        {"change": change, "registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return send_logged(message, registration.reference, "staff change notice")


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
