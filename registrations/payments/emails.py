"""The payment reminder: the text finance set, the outstanding amount, and the invoice's
stored PDF (and e-invoice, when it has one) attached."""

from registrations.invoicing.documents import pdf_bytes, ubl_bytes
from werkplaats import formats
from werkplaats.mail import render_message, send_logged

from .models import ReminderSettings


def reminder_message(reminder):
    """The reminder's mail; an unsaved Reminder gives what the admin's confirmation page
    previews."""
    invoice = reminder.invoice
    attachments = [(invoice.filename, pdf_bytes(invoice), "application/pdf")]
    if invoice.ubl_sha256:
        attachments.append((invoice.ubl_filename, ubl_bytes(invoice), "application/xml"))
    message = render_message(
        "payment_reminder",
        {
            "invoice": invoice,
            "reminder": reminder,
            "text": ReminderSettings.load().text(reminder.level),
            "invoice_date": formats.day(invoice.invoice_date),
            "due_date": formats.day(invoice.due_date),
            "outstanding": formats.money(reminder.outstanding),
            "total": formats.money(invoice.total_incl_vat),
        },
        [reminder.sent_to],
        attachments=attachments,
    )
    if invoice.issuer_email:
        message.reply_to = [invoice.issuer_email]
    return message


def send_reminder(reminder):
    return send_logged(reminder_message(reminder), reminder.invoice.number, "payment reminder")
