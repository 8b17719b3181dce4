"""Invoicing's own admin pages: correcting an invoiced registration, downloading an issued
invoice's documents and a bulk job's ZIP. admin.py wires them in with get_urls."""

import io

from django import forms
from django.contrib import messages
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from registrations.accesslog.log import Kind as AccessKind
from registrations.accesslog.log import record as record_access
from registrations.models import AGREED_PRICE_FIELDS, INVOICE_DETAIL_FIELDS, Order, Registration
from werkplaats.refusals import refusal_text

from . import issuing, jobs
from .documents import CHECKSUM_FIELDS, Kind, document_bytes, sha256
from .models import BulkJob, Invoice, InvoiceRefused

# Where and how long a downloaded invoice document is kept (see _kept_document): each
# worker's own memory (settings.CACHES["documents"]).
documents_kept = caches["documents"]
DOCUMENT_SECONDS = 600


def document_key(number, kind):
    return f"invoice-document:{number}:{kind}"


class CorrectionForm(forms.Form):
    """What finance may correct on an invoice: the invoice details (of every order on it) and
    this participant's agreed price. Saving credits the invoice and issues a new one."""

    def __init__(self, *args, registration, **kwargs):
        order = registration.order
        initial = {
            **{name: getattr(order, name) for name in INVOICE_DETAIL_FIELDS},
            **{name: getattr(registration, name) for name in AGREED_PRICE_FIELDS},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(forms.fields_for_model(Order, INVOICE_DETAIL_FIELDS))
        self.fields.update(forms.fields_for_model(Registration, AGREED_PRICE_FIELDS))
        self.fields["invoice_country"].initial = order.invoice_country.code

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.changed_data}


def correct_registration(model_admin, request, object_id):
    """Finance corrects an invoiced registration: credit note, change, new invoice."""
    if not (
        request.user.has_perm("invoicing.credit_invoice")
        and request.user.has_perm("invoicing.issue_invoice")
        and model_admin.may_change_billing(request)
    ):
        raise PermissionDenied
    registration = model_admin.get_object(request, str(object_id))
    if registration is None:
        raise Http404("Geen inschrijving met dit nummer.")
    current = Invoice.objects.uncredited().for_registration(registration).first()
    if current is None:
        model_admin.message_user(
            request,
            f"{registration.reference} heeft geen openstaande factuur om te corrigeren.",
            messages.WARNING,
        )
        return redirect("admin:registrations_registration_change", registration.pk)
    form = CorrectionForm(request.POST or None, registration=registration)
    if request.method == "POST" and form.is_valid():
        changes = {**form.changes(), "registration": registration}
        try:
            credit, invoice = issuing.correct_and_reissue(current, changes, by=request.user)
        except jobs.REFUSALS as refusal:
            model_admin.message_user(request, refusal_text(refusal), messages.ERROR)
        else:
            new = f"nieuwe factuur {invoice.number}" if invoice else "niemand meer te factureren"
            model_admin.log_change(
                request,
                registration,
                f"Gecorrigeerd: {current.number} gecrediteerd met {credit.number}, {new}.",
            )
            model_admin.message_user(
                request,
                f"{current.number} gecrediteerd met {credit.number}; {new}. Mail "
                "ze vanuit Facturen.",
                messages.SUCCESS,
            )
            return redirect("admin:registrations_registration_change", registration.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{registration.reference} corrigeren en opnieuw factureren",
        "registration": registration,
        "invoice": current,
        "form": form,
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "invoicing/admin_correct.html", context)


def invoice_pdf(model_admin, request, number):
    """The PDF stored at issue time, for users who may view invoices; never re-rendered."""
    return _document_download(model_admin, request, number, Kind.PDF)


def invoice_ubl(model_admin, request, number):
    """The e-invoice (UBL) stored at issue time, under the same rules as the PDF."""
    return _document_download(model_admin, request, number, Kind.UBL)


def _document_download(model_admin, request, number, kind):
    kept = _kept_document(model_admin, request, number, kind)
    if kept is None:
        # A download needs the checksums and the file's name, not the whole snapshot.
        invoice = get_object_or_404(
            Invoice.objects.only("number", "kind", "pdf_sha256", "ubl_sha256"), number=number
        )
        if not model_admin.has_view_permission(request, invoice):
            raise PermissionDenied
        try:
            content = document_bytes(invoice, kind)
        except InvoiceRefused as refusal:
            model_admin.message_user(request, str(refusal), messages.ERROR)
            return redirect("admin:invoicing_invoice_changelist")
        checksum = getattr(invoice, CHECKSUM_FIELDS[kind])
        filename = invoice.filename if kind == Kind.PDF else invoice.ubl_filename
        kept = (checksum, content, filename)
        documents_kept.set(document_key(number, kind), kept, DOCUMENT_SECONDS)
    _, content, filename = kept
    record_access(
        AccessKind.EXPORT,
        "Factuur (PDF)" if kind == Kind.PDF else "E-factuur (UBL)",
        request=request,
        count=1,
        reference=str(number),
    )
    response = FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf" if kind == Kind.PDF else "application/xml",
    )
    # The document is in memory already: hand it to the server in one piece, not in
    # FileResponse's 4 KB blocks (gunicorn writes each block to the socket separately).
    response.block_size = max(len(content), 1)
    return response


def _kept_document(model_admin, request, number, kind):
    """The document as this worker read and checked it on an earlier download, if kept:
    (SHA-256, bytes, file name).

    An issued document never changes: its SHA-256 is set once at issue (the database
    refuses another), so bytes that matched it once are those bytes for good, and a copy
    in one worker's memory cannot go stale. Kept, a download costs no read of the invoice
    or its document. The bytes are checked against that SHA-256 again on every download;
    a document damaged in the database is found when it is next read from there (within
    DOCUMENT_SECONDS) and by check_invoice_documents.
    """
    kept = documents_kept.get(document_key(number, kind))
    if kept is None:
        return None
    checksum, content, _ = kept
    if not checksum or sha256(content) != checksum:
        documents_kept.delete(document_key(number, kind))
        return None
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    return kept


def bulk_job_download(model_admin, request, object_id):
    """A finished ZIP job's file, for whoever may see the job."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    job = model_admin.get_object(request, str(object_id))
    if job is None:
        raise Http404("Geen taak met dit nummer.")
    if not model_admin.has_view_permission(request, job):
        raise PermissionDenied
    content = BulkJob.objects.filter(pk=job.pk).values_list("result", flat=True).get()
    if content is None:
        model_admin.message_user(
            request,
            "Deze taak heeft geen bestand (meer): een ZIP wordt een week bewaard. Start de "
            "actie opnieuw voor een nieuwe.",
            messages.WARNING,
        )
        return redirect("admin:invoicing_bulkjob_change", job.pk)
    record_access(
        AccessKind.EXPORT,
        "Facturen (ZIP van een taak)",
        request=request,
        count=job.items.count(),
        reference=f"taak {job.pk}",
    )
    return FileResponse(
        io.BytesIO(bytes(content)),
        as_attachment=True,
        filename=job.result_name,
        content_type="application/zip",
    )
