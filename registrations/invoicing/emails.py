"""The e-mail of invoicing: the invoice to the customer, and the cancellation notice to finance."""

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from registrations.history.models import OrderLogEntry
from werkplaats import formats
from werkplaats.mail import render_message, send_logged

from .documents import pdf_bytes, ubl_bytes
from .log import record_for_invoice
from .pdf import copy_pdf


def transmitted(invoice):
    """Whether the invoice also leaves as an e-invoice over Peppol, the original (queued by
    the layer above through settings.INVOICE_TRANSMISSION); then its e-mail is a copy."""
    if not settings.INVOICE_TRANSMISSION:
        return False
    return import_string(settings.INVOICE_TRANSMISSION)(invoice)


def invoice_message(invoice, copy=False):
    """The invoice's stored PDF and e-invoice (never a new render) to the invoice e-mail
    address; an invoice from before e-invoices has its PDF only. Also what the admin's
    confirmation page previews.

    A `copy` (the e-invoice over Peppol is the original) carries the stored PDF marked as a
    copy on its first page and no e-invoice, so nobody books the invoice twice; the stored
    documents themselves stay as issued."""
    if copy:
        name = invoice.filename.removesuffix(".pdf") + "-kopie.pdf"
        attachments = [(name, copy_pdf(pdf_bytes(invoice)), "application/pdf")]
    else:
        attachments = [(invoice.filename, pdf_bytes(invoice), "application/pdf")]
        if invoice.ubl_sha256:
            attachments.append((invoice.ubl_filename, ubl_bytes(invoice), "application/xml"))
    message = render_message(
        "invoice",
        {
            "invoice": invoice,
            "copy": copy,
            "invoice_date": formats.day(invoice.invoice_date),
            "due_date": formats.day(invoice.due_date),
            "total": formats.money(abs(invoice.total_incl_vat)),
        },
        [invoice.customer_email],
        attachments=attachments,
    )
    if invoice.issuer_email:
        # Accounts payable answer the invoice mail; that should reach finance.
        message.reply_to = [invoice.issuer_email]
    return message


def send_invoice(invoice, by=None):
    """Mail the invoice; once sent, its time and the step in the orders' history. Where it
    also leaves over Peppol, the mail is a copy."""
    copy = transmitted(invoice)
    sent = send_logged(invoice_message(invoice, copy=copy), invoice.number, "invoice")
    if sent:
        invoice.emailed_at = timezone.now()
        invoice.save(update_fields=["emailed_at"])
        what = "Creditfactuur" if invoice.is_credit_note else "Factuur"
        record_for_invoice(
            invoice,
            OrderLogEntry.Kind.INVOICE_SENT,
            f"{what} {invoice.number} per e-mail verstuurd" + (" (kopie)" if copy else ""),
            by=by,
            at=invoice.emailed_at,
        )
    return sent


def notify_finance_of_cancellation(registration, invoice):
    """An invoiced registration was cancelled: its invoice waits to be credited."""
    message = render_message(
        "finance_cancellation",
        {
            "registration": registration,
            "invoice": invoice,
            "total": formats.money(invoice.total_incl_vat),
        },
        [settings.FINANCE_NOTIFICATION_EMAIL],
    )
    return send_logged(message, registration.reference, "finance cancellation notice")
