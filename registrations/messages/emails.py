"""The mail of a message to participants: one per person, their placeholders filled in and
their personal link below it."""

from werkplaats.mail import render_message, send_logged


def message_mail(message, registration, to=None, test=False):
    """`message` as `registration` gets it; with `to`, the same mail to another address
    (staff's test to themselves)."""
    subject = message.subject_for(registration)
    return render_message(
        "participant_message",
        {
            "subject": f"[Test] {subject}" if test else subject,
            "body": message.body_for(registration),
            "registration": registration,
            "edition": registration.edition,
        },
        [to or registration.email],
    )


def send_to_recipient(recipient):
    message = message_mail(recipient.message, recipient.registration)
    return send_logged(message, recipient.registration.reference, "participant message")


def send_test(message, registration, to):
    mail = message_mail(message, registration, to=to, test=True)
    return send_logged(mail, f"message {message.pk}", "participant message test")
