"""Payments' own admin pages: reading in a bank statement, assigning a payment to invoices,
and the outstanding overview. admin.py wires them in with get_urls."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from programme.models import amsterdam_date
from werkplaats import formats
from werkplaats.refusals import refusal_text

from . import matching, overview
from .camt import StatementRefused
from .forms import AssignForm, InvoiceSearchForm, NotOursForm, StatementUploadForm
from .matching import MAX_STATEMENT_BYTES
from .models import Payment

# The multipart envelope around the file: boundaries, headers, the CSRF token.
UPLOAD_OVERHEAD = 64 * 1024
TOO_LARGE = (
    f"Dit bestand is groter dan {MAX_STATEMENT_BYTES // (1024 * 1024)} MB; een maandafschrift "
    "is veel kleiner. Is het wel een afschrift?"
)


def upload_statement(model_admin, request):
    """Finance reads in a statement: all its new lines, or (with the reason) nothing."""
    if not request.user.has_perm("payments.add_bankstatement"):
        raise PermissionDenied
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    too_large = None
    if length > MAX_STATEMENT_BYTES + UPLOAD_OVERHEAD:
        # Refused before Django reads the body to a temporary file.
        form, too_large = StatementUploadForm(), TOO_LARGE
    else:
        form = StatementUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            statement = matching.import_statement(
                upload.read(), upload.name, by=request.user.get_username()
            )
        except StatementRefused as refusal:
            form.add_error("file", str(refusal))
        else:
            unmatched = statement.entries - statement.matched
            model_admin.message_user(
                request,
                f"{upload.name}: {statement.entries} nieuwe regel(s), waarvan "
                f"{statement.matched} gekoppeld aan een factuur en {unmatched} in de "
                f"wachtrij; {statement.known_entries} regel(s) waren al bekend.",
                messages.SUCCESS,
            )
            return redirect("admin:payments_bankstatement_changelist")
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Bankafschrift inlezen",
        "form": form,
        "too_large": too_large,
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "payments/upload.html", context)


def assign_payment(model_admin, request, payment_id):
    """An unmatched payment: start from what its bank line says (invoice numbers and our
    references in its description, then names), or search by number, name, reference or
    amount; assign it, or mark it not ours. Open invoices come first; paid and credited ones
    stand apart below."""
    if not model_admin.has_change_permission(request):
        raise PermissionDenied
    payment = get_object_or_404(Payment, pk=payment_id)
    search = InvoiceSearchForm(request.GET)
    if search.is_valid() and search.cleaned_data["q"].strip():
        rows = [(invoice, "") for invoice in search.invoices()]
    else:
        rows = matching.suggestions(payment)
    assign = AssignForm(request.POST if "assign" in request.POST else None)
    not_ours = NotOursForm(request.POST if "not_ours" in request.POST else None)
    if request.method == "POST":
        try:
            if "assign" in request.POST and assign.is_valid():
                matching.assign(
                    payment, assign.cleaned_data["invoices"], by=request.user.get_username()
                )
                done = "gekoppeld"
            elif "not_ours" in request.POST and not_ours.is_valid():
                matching.mark_not_ours(
                    payment, not_ours.cleaned_data["reason"], by=request.user.get_username()
                )
                done = "gemarkeerd als niet van ons"
            else:
                done = None
        except ValidationError as refusal:
            model_admin.message_user(request, refusal_text(refusal), messages.ERROR)
        else:
            if done:
                model_admin.message_user(
                    request,
                    f"Betaling van {formats.money(abs(payment.amount))} op {formats.day(payment.booking_date)} {done}.",
                    messages.SUCCESS,
                )
                return redirect(
                    f"{reverse('admin:payments_payment_changelist')}?state__exact=unmatched"
                )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Betaling {payment} toewijzen",
        "payment": payment,
        "search": search,
        "searched": bool(search.is_valid() and search.cleaned_data["q"].strip()),
        "open_rows": [(invoice, why) for invoice, why in rows if invoice.is_open],
        "other_rows": [(invoice, why) for invoice, why in rows if not invoice.is_open],
        "assign": assign,
        "not_ours": not_ours,
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "payments/assign.html", context)


def outstanding_overview(model_admin, request):
    """What is outstanding, per edition and in total, by how late it is, and per
    organisation."""
    if not request.user.has_perm("payments.view_payment"):
        raise PermissionDenied
    today = amsterdam_date(timezone.now())
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Openstaande facturen",
        "today": today,
        "report": overview.outstanding(today),
        "organisations": overview.outstanding_per_organisation(today),
        "opts": model_admin.opts,
    }
    return TemplateResponse(request, "payments/overview.html", context)
