import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from programme.models import Edition, amsterdam_date
from registrations import admin as registrations_admin
from registrations.exports import csv_response
from registrations.models import Order, Registration
from werkplaats.formats import money
from werkplaats.queue import Queued

from . import exports, issuing, jobs, tasks
from .documents import CHECKSUM_FIELDS, Kind, document_bytes, sha256
from .models import (
    INVOICE_FROZEN_FIELDS,
    ORDER_FROZEN_FIELDS,
    BulkJob,
    Invoice,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRefused,
    on_standing_invoice,
)


class InvoiceNumberConverter:
    """Invoice numbers are letters, digits and - _ . (InvoiceIssuer's prefix rule): anything
    else, such as a NUL byte PostgreSQL would refuse in a query, is a 404 before a view runs."""

    regex = r"[A-Za-z0-9_.\-]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(InvoiceNumberConverter, "invoice_number")

REFUSALS = jobs.REFUSALS

# Where and how long a downloaded invoice document is kept (see InvoiceAdmin._kept_document):
# each worker's own memory (settings.CACHES["documents"]).
documents_kept = caches["documents"]
DOCUMENT_SECONDS = 600


def document_key(number, kind):
    return f"invoice-document:{number}:{kind}"


def apply_to_each(modeladmin, request, rows, step, done, log=True):
    registrations_admin.apply_to_each(
        modeladmin, request, rows, step, done, refusals=REFUSALS, log=log
    )


def is_large(queryset):
    return queryset.count() > jobs.INLINE_LIMIT


def start_job(modeladmin, request, kind, queryset):
    """Too many rows for one request: the worker does them as a job; the user goes to its
    page, which shows the progress and each row's outcome."""
    job, new = jobs.start(kind, queryset.values_list("pk", flat=True), request.user)
    if new:
        modeladmin.message_user(
            request,
            f"{capfirst(job.get_kind_display())} voor {job.total} {job.rows_label} loopt op "
            "de achtergrond. Deze pagina laat de voortgang en de uitkomst zien.",
            messages.SUCCESS,
        )
    else:
        modeladmin.message_user(
            request,
            "Deze actie loopt al voor precies deze selectie; er is geen tweede gestart. "
            "Hier zie je hoe ver hij is.",
            messages.WARNING,
        )
    return redirect("admin:invoicing_bulkjob_change", job.pk)


def confirm_page(modeladmin, request, queryset, action, title, text, form=None, rows=None):
    """An intermediate page for an action: what will happen, to which invoices, and a form."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "text": text,
        "queryset": queryset,
        "rows": rows,
        "form": form,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "invoicing/admin_confirm.html", context)


class BookingDateForm(forms.Form):
    """The date money came in (paid_on) or went back (refunded_on)."""

    def __init__(self, *args, name, label, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = name
        self.fields[name] = forms.DateField(
            label=label,
            input_formats=["%Y-%m-%d", "%d-%m-%Y"],
            widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        )

    def clean(self):
        day = self.cleaned_data.get(self.name)
        if day and day > amsterdam_date(timezone.now()):
            self.add_error(self.name, "Deze datum kan niet in de toekomst liggen.")
        return self.cleaned_data


class InvoiceStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("open", "open"),
            ("overdue", "te laat"),
            ("paid", "betaald"),
            ("credited", "gecrediteerd"),
            ("credit_note", "creditfactuur"),
            ("to_credit", "te crediteren (inschrijving geannuleerd)"),
            ("refund_due", "terug te betalen"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.open()
        if value == "overdue":
            return queryset.overdue()
        if value == "paid":
            return queryset.paid()
        if value == "credited":
            return queryset.credited()
        if value == "credit_note":
            return queryset.credit_notes()
        if value == "to_credit":
            return queryset.to_credit()
        if value == "refund_due":
            return queryset.refund_due()
        return queryset


class InvoiceYearFilter(admin.SimpleListFilter):
    title = "jaar"
    parameter_name = "jaar"

    def lookups(self, request, model_admin):
        years = Invoice.objects.dates("invoice_date", "year", order="DESC")
        return [(str(day.year), str(day.year)) for day in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(invoice_date__year=int(self.value()))
        return queryset


class InvoiceEditionFilter(admin.SimpleListFilter):
    title = "editie"
    parameter_name = "editie"

    def lookups(self, request, model_admin):
        editions = Edition.objects.filter(registrations__invoice_lines__isnull=False).distinct()
        return [(edition.pk, str(edition)) for edition in editions]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(lines__registration__edition_id=self.value()).distinct()
        return queryset


class InvoiceDisplayMixin:
    """Columns the invoice list and the registration's invoice inline share."""

    @admin.display(description="totaal incl. btw", ordering="total_incl_vat")
    def incl_vat(self, invoice):
        return money(invoice.total_incl_vat)

    @admin.display(description="status")
    def status_label(self, invoice):
        return invoice.status().label

    @admin.display(description="pdf")
    def pdf_link(self, invoice):
        if not invoice.pk or not invoice.pdf_sha256:
            return "–"
        url = reverse("admin:invoicing_invoice_pdf", args=[invoice.number])
        return format_html('<a href="{}">{}</a>', url, invoice.filename)

    @admin.display(description="e-factuur")
    def ubl_link(self, invoice):
        if not invoice.pk or not invoice.ubl_sha256:
            return "–"
        url = reverse("admin:invoicing_invoice_ubl", args=[invoice.number])
        return format_html('<a href="{}">{}</a>', url, invoice.ubl_filename)


class ReadOnlyAdminMixin:
    """Issued invoices are final: nobody adds, edits or deletes them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InvoiceLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceLine
    fields = [
        "registration",
        "description",
        "quantity",
        "unit_price",
        "vat_rate",
        "amount_excl_vat",
    ]
    readonly_fields = fields
    extra = 0


class RegistrationInvoiceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The invoices and credit notes with a line for this registration, on the registration."""

    model = InvoiceLine
    fk_name = "registration"
    fields = ["number_link", "kind", "invoice_date", "amount_excl_vat", "status_label", "pdf_link"]
    readonly_fields = fields
    extra = 0
    verbose_name = "factuurregel"
    verbose_name_plural = "facturen"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("invoice__credit_note", "invoice__credited_invoice")
        )

    @admin.display(description="nummer")
    def number_link(self, line):
        url = reverse("admin:invoicing_invoice_change", args=[line.invoice.pk])
        return format_html('<a href="{}">{}</a>', url, line.invoice.number)

    @admin.display(description="soort")
    def kind(self, line):
        return line.invoice.get_kind_display()

    @admin.display(description="factuurdatum")
    def invoice_date(self, line):
        return line.invoice.invoice_date

    @admin.display(description="status")
    def status_label(self, line):
        return line.invoice.status().label

    @admin.display(description="pdf")
    def pdf_link(self, line):
        return InvoiceDisplayMixin.pdf_link(self, line.invoice)


class BillingFilter(admin.SimpleListFilter):
    title = "facturatie"
    parameter_name = "facturatie"

    def lookups(self, request, model_admin):
        return [
            ("te_factureren", "te factureren (bevestigd, geen factuur)"),
            ("gefactureerd", "gefactureerd"),
            ("te_crediteren", "te crediteren (geannuleerd, factuur staat open)"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "te_factureren":
            return queryset.confirmed().filter(has_invoice=False)
        if value == "gefactureerd":
            return queryset.filter(has_invoice=True)
        if value == "te_crediteren":
            return queryset.filter(has_invoice=True, status=Registration.Status.CANCELLED)
        return queryset


class CorrectionForm(forms.Form):
    """What finance may correct on an invoice: the invoice details (of every order on it) and
    this participant's agreed price. Saving credits the invoice and issues a new one."""

    def __init__(self, *args, registration, **kwargs):
        order = registration.order
        initial = {
            **{name: getattr(order, name) for name in registrations_admin.INVOICE_DETAIL_FIELDS},
            **{name: getattr(registration, name) for name in registrations_admin.MONEY_FIELDS},
        }
        super().__init__(*args, initial=initial, **kwargs)
        self.fields.update(forms.fields_for_model(Order, registrations_admin.INVOICE_DETAIL_FIELDS))
        self.fields.update(forms.fields_for_model(Registration, registrations_admin.MONEY_FIELDS))
        self.fields["invoice_country"].initial = order.invoice_country.code

    def changes(self):
        return {name: self.cleaned_data[name] for name in self.changed_data}


class RegistrationAdmin(registrations_admin.RegistrationAdmin):
    """Sign-up's registration admin with what invoicing adds: the invoices, a "gefactureerd /
    te factureren" column and filter, issuing, and the correction path for invoiced ones."""

    list_display = [*registrations_admin.RegistrationAdmin.list_display, "billing"]
    list_filter = [*registrations_admin.RegistrationAdmin.list_filter, BillingFilter]
    actions = [
        *registrations_admin.RegistrationAdmin.actions,
        "issue_invoices",
        "issue_combined_invoice",
    ]
    change_form_template = "invoicing/registration_change_form.html"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(has_invoice=on_standing_invoice())

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), RegistrationInvoiceInline]

    @admin.display(description="facturatie", ordering="has_invoice")
    def billing(self, registration):
        if getattr(registration, "has_invoice", False):
            if registration.is_cancelled:
                return "te crediteren"
            return "gefactureerd"
        if registration.status == Registration.Status.CONFIRMED:
            return "te factureren"
        return "–"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        current = None
        if object_id.isdigit():
            current = Invoice.objects.uncredited().for_registration(int(object_id)).first()
        extra_context = {**(extra_context or {}), "current_invoice": current}
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and Invoice.objects.uncredited().for_registration(obj).exists():
            # What the invoice says changes only through 'Corrigeren en opnieuw factureren'.
            readonly = [*readonly, *(f for f in INVOICE_FROZEN_FIELDS if f not in readonly)]
        return readonly

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("invoicing.issue_invoice")

    @admin.action(
        description="Factuur aanmaken: één per bestelling, een regel per deelnemer",
        permissions=["issue_invoice"],
    )
    def issue_invoices(self, request, queryset):
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.ISSUE, queryset)
        # The confirmed participants not yet invoiced go together per order; anyone else is
        # a row of their own, which issuing refuses with the reason.
        groups = {}
        rows = self.get_queryset(request).filter(pk__in=queryset.values("pk"))
        for registration in rows.select_related("order").order_by("order_id", "pk"):
            ready = registration.status == Registration.Status.CONFIRMED
            key = registration.order if ready and not registration.has_invoice else registration
            groups.setdefault(key, []).append(registration)

        def step(registrations):
            invoice = issuing.issue_invoice(registrations, by=request.user)
            return f"factuur {invoice.number} voor {_who(registrations)}"

        apply_to_each(self, request, list(groups.values()), step, "Aangemaakt", log=False)
        return None

    @admin.action(
        description="Samen factureren: één factuur (zelfde organisatie en kenmerk)",
        permissions=["issue_invoice"],
    )
    def issue_combined_invoice(self, request, queryset):
        def step(registrations):
            invoice = issuing.issue_invoice(registrations, by=request.user)
            return f"factuur {invoice.number} voor {_who(registrations)}"

        apply_to_each(self, request, [list(queryset)], step, "Aangemaakt", log=False)

    def get_urls(self):
        return [
            path(
                "<path:object_id>/corrigeren/",
                self.admin_site.admin_view(self.correct_view),
                name="registrations_registration_correct",
            ),
            *super().get_urls(),
        ]

    def correct_view(self, request, object_id):
        """Finance corrects an invoiced registration: credit note, change, new invoice."""
        if not (
            request.user.has_perm("invoicing.credit_invoice")
            and request.user.has_perm("invoicing.issue_invoice")
            and self.may_change_billing(request)
        ):
            raise PermissionDenied
        registration = self.get_object(request, object_id)
        if registration is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        current = Invoice.objects.uncredited().for_registration(registration).first()
        if current is None:
            self.message_user(
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
            except REFUSALS as refusal:
                self.message_user(request, _reason(refusal), messages.ERROR)
            else:
                new = (
                    f"nieuwe factuur {invoice.number}" if invoice else "niemand meer te factureren"
                )
                self.log_change(
                    request,
                    registration,
                    f"Gecorrigeerd: {current.number} gecrediteerd met {credit.number}, {new}.",
                )
                self.message_user(
                    request,
                    f"{current.number} gecrediteerd met {credit.number}; {new}. Mail "
                    "ze vanuit Facturen.",
                    messages.SUCCESS,
                )
                return redirect("admin:registrations_registration_change", registration.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": f"{registration.reference} corrigeren en opnieuw factureren",
            "registration": registration,
            "invoice": current,
            "form": form,
            "opts": self.opts,
        }
        return TemplateResponse(request, "invoicing/admin_correct.html", context)


def _who(registrations):
    references = ", ".join(r.reference for r in registrations)
    orders = {r.order_id for r in registrations}
    if len(registrations) > 1 and len(orders) == 1:
        return f"{registrations[0].order.reference} ({references})"
    return references


def _reason(refusal):
    return "; ".join(refusal.messages) if hasattr(refusal, "messages") else str(refusal)


admin.site.unregister(Registration)
admin.site.register(Registration, RegistrationAdmin)


class OrderInvoiceInline(InvoiceDisplayMixin, ReadOnlyAdminMixin, admin.TabularInline):
    """The order's invoices and credit notes (a combined invoice shows on its participants)."""

    model = Invoice
    fk_name = "order"
    fields = ["number_link", "kind", "invoice_date", "incl_vat", "status_label", "pdf_link"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "facturen"

    @admin.display(description="nummer")
    def number_link(self, invoice):
        url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, invoice.number)


class OrderAdmin(registrations_admin.OrderAdmin):
    """Sign-up's order admin with its invoices; once invoiced, the invoice details change
    only through 'Corrigeren en opnieuw factureren' on a participant (the database holds
    that too)."""

    inlines = [*registrations_admin.OrderAdmin.inlines, OrderInvoiceInline]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and obj.positions.filter(on_standing_invoice()).exists():
            readonly = [*readonly, *ORDER_FROZEN_FIELDS]
        return readonly


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)


@admin.register(InvoiceIssuer)
class InvoiceIssuerAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it."""

    fieldsets = [
        (None, {"fields": ["is_example"]}),
        ("Afzender", {"fields": ["name", "street", ("postcode", "city"), "country", "email"]}),
        ("Registratie", {"fields": ["kvk_number", "vat_id"]}),
        ("Betaling", {"fields": ["iban", "bic", "payment_term_days"]}),
        (
            "Nummering",
            {"fields": ["number_prefix", "credit_notes_own_series", "credit_note_prefix"]},
        ),
        ("Factuur", {"fields": ["footer_text"]}),
    ]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not InvoiceIssuer.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        issuer = InvoiceIssuer.objects.first()
        if issuer:
            return redirect("admin:invoicing_invoiceissuer_change", issuer.pk)
        return redirect("admin:invoicing_invoiceissuer_add")


@admin.register(Invoice)
class InvoiceAdmin(InvoiceDisplayMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "number",
        "kind",
        "invoice_date",
        "customer_organisation",
        "excl_vat",
        "vat",
        "incl_vat",
        "status_label",
        "pdf_link",
        "ubl_link",
    ]
    list_filter = [
        InvoiceStatusFilter,
        InvoiceYearFilter,
        InvoiceEditionFilter,
        "kind",
    ]
    search_fields = ["number", "customer_organisation", "customer_attention", "po_number"]
    list_select_related = ["credit_note", "credited_invoice", "order"]
    inlines = [InvoiceLineInline]
    actions = [
        "download_zip",
        "export_bookkeeping",
        "create_credit_notes",
        "email_invoices",
        "restore_documents",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "kind"),
                    "status_label",
                    ("pdf_link", "ubl_link"),
                    ("pdf_sha256", "ubl_sha256"),
                    "layout",
                    ("invoice_date", "due_date"),
                    ("supply_start", "supply_end"),
                    "credited_invoice",
                    "order",
                    ("issued_at", "issued_by"),
                    ("paid_on", "emailed_at", "refunded_on"),
                ]
            },
        ),
        (
            "Klant",
            {
                "fields": [
                    "customer_organisation",
                    "customer_attention",
                    "customer_street",
                    ("customer_postcode", "customer_city"),
                    "customer_country_name",
                    "customer_email",
                    ("customer_vat_id", "po_number"),
                    ("customer_kvk_number", "customer_oin"),
                    "customer_peppol_id",
                    "payment_reference",
                ]
            },
        ),
        (
            "Bedragen",
            {"fields": [("total_excl_vat", "total_vat", "total_incl_vat"), "vat_exemption_text"]},
        ),
        (
            "Afzender",
            {
                "classes": ["collapse"],
                "fields": [
                    "issuer_name",
                    "issuer_street",
                    ("issuer_postcode", "issuer_city"),
                    "issuer_country",
                    ("issuer_kvk_number", "issuer_vat_id"),
                    ("issuer_iban", "issuer_bic"),
                    "issuer_email",
                    "footer_text",
                ],
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return list(flatten_fieldsets(self.fieldsets))

    def get_actions(self, request):
        actions = super().get_actions(request)
        # "Delete selected" would only end in a refusal: invoices are never deleted.
        actions.pop("delete_selected", None)
        return actions

    def delete_view(self, request, object_id, extra_context=None):
        """Say why, instead of Django's 'permission denied': nobody deletes an invoice."""
        invoice = self.get_object(request, object_id)
        if invoice is None or not self.has_view_permission(request, invoice):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": f"{invoice} verwijderen kan niet",
            "invoice": invoice,
            "opts": self.opts,
        }
        return TemplateResponse(request, "invoicing/admin_no_delete.html", context, status=403)

    def get_urls(self):
        return [
            path(
                "<invoice_number:number>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="invoicing_invoice_pdf",
            ),
            path(
                "<invoice_number:number>/xml/",
                self.admin_site.admin_view(self.ubl_view),
                name="invoicing_invoice_ubl",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, number):
        """The PDF stored at issue time, for users who may view invoices; never re-rendered."""
        return self._document_download(request, number, Kind.PDF)

    def ubl_view(self, request, number):
        """The e-invoice (UBL) stored at issue time, under the same rules as the PDF."""
        return self._document_download(request, number, Kind.UBL)

    def _document_download(self, request, number, kind):
        content = self._kept_document(request, number, kind)
        if content is None:
            # A download needs the checksums, not the whole snapshot.
            invoice = get_object_or_404(
                Invoice.objects.only("number", "pdf_sha256", "ubl_sha256"), number=number
            )
            if not self.has_view_permission(request, invoice):
                raise PermissionDenied
            try:
                content = document_bytes(invoice, kind)
            except InvoiceRefused as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                return redirect("admin:invoicing_invoice_changelist")
            checksum = getattr(invoice, CHECKSUM_FIELDS[kind])
            documents_kept.set(document_key(number, kind), (checksum, content), DOCUMENT_SECONDS)
        pdf = kind == Kind.PDF
        named = Invoice(number=number)
        response = FileResponse(
            io.BytesIO(content),
            as_attachment=True,
            filename=named.filename if pdf else named.ubl_filename,
            content_type="application/pdf" if pdf else "application/xml",
        )
        # The document is in memory already: hand it to the server in one piece, not in
        # FileResponse's 4 KB blocks (gunicorn writes each block to the socket separately).
        response.block_size = max(len(content), 1)
        return response

    def _kept_document(self, request, number, kind):
        """The document as this worker read and checked it on an earlier download, if kept.

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
        checksum, content = kept
        if not checksum or sha256(content) != checksum:
            documents_kept.delete(document_key(number, kind))
            return None
        if not self.has_view_permission(request):
            raise PermissionDenied
        return content

    def has_credit_invoice_permission(self, request):
        return request.user.has_perm("invoicing.credit_invoice")

    def has_mark_paid_permission(self, request):
        return request.user.has_perm("invoicing.mark_paid")

    def has_send_invoice_permission(self, request):
        return request.user.has_perm("invoicing.send_invoice")

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("invoicing.issue_invoice")

    @admin.display(description="excl. btw", ordering="total_excl_vat")
    def excl_vat(self, invoice):
        return money(invoice.total_excl_vat)

    @admin.display(description="btw", ordering="total_vat")
    def vat(self, invoice):
        return money(invoice.total_vat)

    @admin.action(
        description="Download geselecteerde pdf's en e-facturen (ZIP)", permissions=["view"]
    )
    def download_zip(self, request, queryset):
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.ZIP, queryset)
        try:
            content = exports.invoices_zip(queryset.order_by("number"))
        except InvoiceRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return None
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="facturen.zip"'
        return response

    @admin.action(
        description="Exporteer voor de boekhouding (CSV, per factuur en btw-tarief)",
        permissions=["view"],
    )
    def export_bookkeeping(self, request, queryset):
        rows = exports.bookkeeping_rows(
            queryset.select_related("credited_invoice")
            .prefetch_related("lines")
            .order_by("series", "sequence")
        )
        return csv_response("facturen-boekhouding.csv", exports.BOOKKEEPING_HEADER, rows)

    def _dated_action(self, request, queryset, action, title, text, record, done, field):
        form = BookingDateForm(
            request.POST if "apply" in request.POST else None,
            initial={field[0]: amsterdam_date(timezone.now())},
            name=field[0],
            label=field[1],
        )
        if not form.is_valid():
            return confirm_page(self, request, queryset, action, title, text, form)
        day = form.cleaned_data[field[0]]
        apply_to_each(
            self,
            request,
            queryset.select_related("credited_invoice").order_by("number"),
            lambda invoice: record(invoice, day),
            done,
        )
        return None

    @admin.action(description="Creditfactuur maken…", permissions=["credit_invoice"])
    def create_credit_notes(self, request, queryset):
        if "apply" not in request.POST:
            return confirm_page(
                self,
                request,
                queryset,
                "create_credit_notes",
                "Creditfactuur maken",
                "Voor elke gekozen factuur wordt een creditfactuur met een eigen nummer "
                "gemaakt. Dat kan niet ongedaan worden gemaakt. Wil je factuurgegevens "
                "corrigeren? Gebruik dan 'Corrigeren en opnieuw factureren' op de inschrijving: "
                "dat crediteert en factureert opnieuw in één keer.",
            )
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.CREDIT, queryset)
        apply_to_each(
            self,
            request,
            queryset.order_by("number"),
            lambda invoice: jobs.credit(invoice, request.user),
            "Gecrediteerd",
        )
        return None

    @admin.action(
        description="Mail de pdf en e-factuur naar het factuuradres…", permissions=["send_invoice"]
    )
    def email_invoices(self, request, queryset):
        already = [invoice for invoice in queryset.order_by("number") if invoice.emailed_at]
        if already and "apply" not in request.POST:
            rows = [
                f"{invoice.number} is al gemaild op "
                f"{timezone.localtime(invoice.emailed_at):%d-%m-%Y %H:%M} naar "
                f"{invoice.customer_email}"
                for invoice in already
            ]
            return confirm_page(
                self,
                request,
                queryset,
                "email_invoices",
                "Opnieuw mailen?",
                "Een deel van deze facturen is al gemaild. Mail je ze nog een keer, dan krijgt "
                "de klant ze dubbel; dat kan tot een dubbele betaling leiden.",
                rows=rows,
            )
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.EMAIL, queryset)
        queued = Queued()

        def step(invoice):
            # A missing or damaged document is reported now, not by the worker.
            jobs.check_documents(invoice)
            queued.results.append(tasks.send_invoice_email.enqueue(invoice.pk))
            return f"{invoice.number} naar {invoice.customer_email}"

        apply_to_each(self, request, queryset.order_by("number"), step, "Mailen")
        registrations_admin.report_mail(self, request, queued, "Factuurmail")
        return None

    @admin.action(description="Pdf controleren en herstellen", permissions=["issue_invoice"])
    def restore_documents(self, request, queryset):
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.RESTORE, queryset)
        apply_to_each(
            self,
            request,
            queryset.order_by("number"),
            lambda invoice: jobs.check_and_restore(invoice, request.user),
            "Gecontroleerd",
        )
        return None


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    """A long admin action's progress and outcome, for whoever may do that action; the page
    reloads itself until the job is done (a meta refresh: no script, so CSP stays strict)."""

    list_display = ["__str__", "status", "progress", "created_by", "created_at", "finished_at"]
    list_filter = ["kind"]
    fields = [
        ("kind", "status"),
        "progress",
        ("created_by", "created_at"),
        ("started_at", "finished_at"),
        "result_link",
        "outcomes",
    ]
    readonly_fields = [
        "kind",
        "status",
        "progress",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
        "result_link",
        "outcomes",
    ]
    change_form_template = "invoicing/bulkjob_change_form.html"

    def get_queryset(self, request):
        # The ZIP's bytes are read by the download only.
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .defer("result")
            .select_related("created_by")
            .annotate(skipped=Count("items", filter=Q(items__succeeded=False)))
        )

    def has_view_permission(self, request, obj=None):
        # The job pages (the model's view permission), and of those jobs only the ones whose
        # action the user may do.
        if not super().has_view_permission(request, obj):
            return False
        return obj is None or obj.kind in BulkJob.kinds_for(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def history_view(self, request, object_id, extra_context=None):
        # Without any job kind of one's own this is a 403, as on the other pages, not Django's
        # "does not exist" for a row get_queryset() leaves out.
        if not self.has_view_permission(request):
            raise PermissionDenied
        return super().history_view(request, object_id, extra_context)

    @admin.display(description="voortgang")
    def progress(self, job):
        return f"{job.done} van {job.total} verwerkt, waarvan {job.skipped} overgeslagen"

    @admin.display(description="resultaat")
    def result_link(self, job):
        if not job.result_name:
            return "–"
        url = reverse("admin:invoicing_bulkjob_download", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, job.result_name)

    @admin.display(description="uitkomst per rij")
    def outcomes(self, job):
        items = job.items.all()
        if not items:
            return "–"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}{}</li>",
                (("" if item.succeeded else "Overgeslagen: ", item.message) for item in items),
            ),
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="invoicing_bulkjob_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, object_id):
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            raise PermissionDenied
        content = BulkJob.objects.filter(pk=job.pk).values_list("result", flat=True).get()
        if content is None:
            self.message_user(
                request,
                "Deze taak heeft geen bestand (meer): een ZIP wordt een week bewaard. Start de "
                "actie opnieuw voor een nieuwe.",
                messages.WARNING,
            )
            return redirect("admin:invoicing_bulkjob_change", job.pk)
        return FileResponse(
            io.BytesIO(bytes(content)),
            as_attachment=True,
            filename=job.result_name,
            content_type="application/zip",
        )
