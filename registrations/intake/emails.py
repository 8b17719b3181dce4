"""The mail intake sends: the one reminder to fill in the case."""

from werkplaats import formats
from werkplaats.mail import render_message, send_logged


def send_case_reminder(registration, intake):
    message = render_message(
        "case_reminder",
        {
            "registration": registration,
            "edition": registration.edition,
            "deadline": formats.day(intake.deadline_date()),
        },
        [registration.email],
    )
    return send_logged(message, registration.reference, "case reminder")
