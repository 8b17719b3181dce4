"""Every e-mail the site sends, rendered from templates/emails/<name>_{subject,body}.txt/.html."""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from programme.ics import edition_calendar

logger = logging.getLogger(__name__)


def _message(name, context, to, attachments=()):
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(render_to_string(f"emails/{name}_body.html", context), "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    return message


def _send(message, registration, what):
    """Send; on a mail server failure log it (by reference, no personal data) and go on."""
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning(
            "Could not send %s for registration %s: %s",
            what,
            registration.reference,
            error.__class__.__name__,
        )
        return False
    return True


def send_confirmation(registration):
    """The participant's confirmation with the summary, their link and the .ics file."""
    edition = registration.edition
    message = _message(
        "registration_confirmation",
        {"registration": registration, "edition": edition},
        [registration.email],
        attachments=[
            (f"werkplaats-{edition.slug}.ics", edition_calendar(edition), "text/calendar")
        ],
    )
    sent = _send(message, registration, "confirmation")
    if sent:
        registration.confirmation_sent_at = timezone.now()
        registration.save(update_fields=["confirmation_sent_at", "updated_at"])
    return sent


def notify_staff_of_registration(registration):
    message = _message(
        "staff_new_registration",
        {"registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return _send(message, registration, "staff notification")


def notify_staff_of_cancellation(registration):
    message = _message(
        "staff_cancellation",
        {"registration": registration, "edition": registration.edition},
        [settings.STAFF_NOTIFICATION_EMAIL],
    )
    return _send(message, registration, "staff cancellation notice")


def send_cancellation_confirmation(registration):
    message = _message(
        "registration_cancelled",
        {"registration": registration, "edition": registration.edition},
        [registration.email],
    )
    return _send(message, registration, "cancellation confirmation")


def send_invoice(invoice):
    """The invoice's stored PDF (never a new render) to the invoice e-mail address."""
    from .invoices import format_date, format_money, pdf_bytes

    message = _message(
        "invoice",
        {
            "invoice": invoice,
            "invoice_date": format_date(invoice.invoice_date),
            "due_date": format_date(invoice.due_date),
            "total": format_money(abs(invoice.total_incl_vat)),
        },
        [invoice.customer_email],
        attachments=[(invoice.filename, pdf_bytes(invoice), "application/pdf")],
    )
    if invoice.issuer_email:
        # Accounts payable answer the invoice mail; that should reach finance.
        message.reply_to = [invoice.issuer_email]
    sent = _send(message, invoice.registration, f"invoice {invoice.number}")
    if sent:
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
    return sent
