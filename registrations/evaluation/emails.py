"""The mail evaluation sends: the invitation after the last day and the one reminder."""

from werkplaats import formats
from werkplaats.mail import render_message, send_logged


def _message(name, invitation):
    registration = invitation.registration
    questionnaire = invitation.questionnaire()
    return render_message(
        name,
        {
            "registration": registration,
            "edition": registration.edition,
            "closes_on": formats.day(questionnaire.closes_on()),
        },
        [registration.email],
    )


def send_invitation(invitation):
    message = _message("evaluation_invitation", invitation)
    return send_logged(message, invitation.registration.reference, "evaluation invitation")


def send_reminder(invitation):
    message = _message("evaluation_reminder", invitation)
    return send_logged(message, invitation.registration.reference, "evaluation reminder")
