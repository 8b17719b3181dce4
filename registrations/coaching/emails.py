"""The mail coaching sends: the booking's confirmation with its .ics."""

from werkplaats.mail import render_message, send_logged

from .ics import slot_calendar


def send_booking_confirmation(registration, slot):
    message = render_message(
        "coach_booking",
        {"registration": registration, "edition": registration.edition, "slot": slot},
        [registration.email],
        attachments=[("coachgesprek.ics", slot_calendar(slot), "text/calendar")],
    )
    return send_logged(message, registration.reference, "coach booking")
