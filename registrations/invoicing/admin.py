import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, OuterRef
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.utils.html import format_html

from programme.models import amsterdam_date
from registrations import admin as registrations_admin
from registrations.exports import csv_response
from registrations.models import Registration
from registrations.tasks import Queued
from werkplaats.formats import money

from . import exports, issuing, tasks
from .documents import Kind, document_bytes, kinds, restore
from .models import (
    INVOICE_FROZEN_FIELDS,
    Invoice,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRefused,
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

REFUSALS = (InvoiceRefused, ValidationError)


def apply_to_each(modeladmin, request, rows, step, done):
    registrations_admin.apply_to_each(modeladmin, request, rows, step, done, refusals=REFUSALS)


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
    fields = ["description", "quantity", "unit_price", "vat_rate", "amount_excl_vat"]
    readonly_fields = fields
    extra = 0


class RegistrationInvoiceInline(InvoiceDisplayMixin, ReadOnlyAdminMixin, admin.TabularInline):
    """The registration's invoices and credit notes, shown on the registration."""

    model = Invoice
    fk_name = "registration"
    fields = [
        "number_link",
        "kind",
        "invoice_date",
        "incl_vat",
        "status_label",
        "pdf_link",
        "ubl_link",
    ]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "facturen"

    @admin.display(description="nummer")
    def number_link(self, invoice):
        url = reverse("admin:invoicing_invoice_change", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, invoice.number)


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


class CorrectionForm(forms.ModelForm):
    """What finance may correct on an invoiced registration: the invoice details and the
    agreed price. Saving credits the invoice and issues a new one."""

    class Meta:
        model = Registration
        fields = [*registrations_admin.INVOICE_DETAIL_FIELDS, *registrations_admin.MONEY_FIELDS]


class RegistrationAdmin(registrations_admin.RegistrationAdmin):
    """Sign-up's registration admin with what invoicing adds: the invoices, a "gefactureerd /
    te factureren" column and filter, issuing, and the correction path for invoiced ones."""

    list_display = [*registrations_admin.RegistrationAdmin.list_display, "billing"]
    list_filter = [*registrations_admin.RegistrationAdmin.list_filter, BillingFilter]
    actions = [*registrations_admin.RegistrationAdmin.actions, "issue_invoices"]
    change_form_template = "invoicing/registration_change_form.html"

    def get_queryset(self, request):
        current = Invoice.objects.filter(registration=OuterRef("pk")).uncredited()
        return super().get_queryset(request).annotate(has_invoice=Exists(current))

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
        current = Invoice.objects.filter(registration_id=object_id).uncredited().first()
        extra_context = {
            **(extra_context or {}),
            "current_invoice": current if object_id.isdigit() else None,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if obj is not None and Invoice.objects.filter(registration=obj).uncredited().exists():
            # What the invoice says changes only through 'Corrigeren en opnieuw factureren'.
            readonly = [*readonly, *(f for f in INVOICE_FROZEN_FIELDS if f not in readonly)]
        return readonly

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("invoicing.issue_invoice")

    @admin.action(description="Factuur aanmaken", permissions=["issue_invoice"])
    def issue_invoices(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset.select_related("edition").order_by("created_at"),
            lambda r: (
                f"factuur {issuing.issue_invoice(r, by=request.user).number} voor {r.reference}"
            ),
            "Aangemaakt",
        )

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
        current = Invoice.objects.filter(registration=registration).uncredited().first()
        if current is None:
            self.message_user(
                request,
                f"{registration.reference} heeft geen openstaande factuur om te corrigeren.",
                messages.WARNING,
            )
            return redirect("admin:registrations_registration_change", registration.pk)
        form = CorrectionForm(request.POST or None, instance=registration)
        if request.method == "POST" and form.is_valid():
            changes = {name: form.cleaned_data[name] for name in form.changed_data}
            try:
                credit, invoice = issuing.correct_and_reissue(
                    Registration.objects.get(pk=registration.pk), changes, by=request.user
                )
            except REFUSALS as refusal:
                self.message_user(request, _reason(refusal), messages.ERROR)
            else:
                self.log_change(
                    request,
                    registration,
                    f"Gecorrigeerd: {current.number} gecrediteerd met {credit.number}, "
                    f"nieuwe factuur {invoice.number}.",
                )
                self.message_user(
                    request,
                    f"{current.number} gecrediteerd met {credit.number}; nieuwe factuur "
                    f"{invoice.number}. Mail beide vanuit Facturen.",
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


def _reason(refusal):
    return "; ".join(refusal.messages) if hasattr(refusal, "messages") else str(refusal)


admin.site.unregister(Registration)
admin.site.register(Registration, RegistrationAdmin)


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
        ("registration__edition", admin.RelatedOnlyFieldListFilter),
        "kind",
    ]
    search_fields = ["number", "customer_organisation", "customer_attention", "po_number"]
    list_select_related = ["credit_note", "credited_invoice", "registration"]
    inlines = [InvoiceLineInline]
    actions = [
        "download_zip",
        "export_bookkeeping",
        "mark_paid",
        "mark_refunded",
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
                    ("invoice_date", "due_date"),
                    ("supply_start", "supply_end"),
                    "credited_invoice",
                    "registration",
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
        pdf = kind == Kind.PDF
        response = FileResponse(
            io.BytesIO(content),
            as_attachment=True,
            filename=invoice.filename if pdf else invoice.ubl_filename,
            content_type="application/pdf" if pdf else "application/xml",
        )
        # The document is in memory already: hand it to the server in one piece, not in
        # FileResponse's 4 KB blocks (gunicorn writes each block to the socket separately).
        response.block_size = max(len(content), 1)
        return response

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

    @admin.action(description="Markeer als betaald…", permissions=["mark_paid"])
    def mark_paid(self, request, queryset):
        def record(invoice, day):
            invoice.record_payment(day)
            return f"{invoice.number} betaald op {day:%d-%m-%Y}"

        return self._dated_action(
            request,
            queryset,
            "mark_paid",
            "Facturen als betaald markeren",
            "Op welke datum is het geld binnengekomen? Niet voor de factuurdatum en niet in de "
            "toekomst. Creditfacturen, gecrediteerde en al betaalde facturen worden overgeslagen.",
            record,
            "Betaald",
            ("paid_on", "Betaald op"),
        )

    @admin.action(description="Markeer terugbetaling als gedaan…", permissions=["mark_paid"])
    def mark_refunded(self, request, queryset):
        def record(invoice, day):
            invoice.record_refund(day)
            return f"{invoice.number} terugbetaald op {day:%d-%m-%Y}"

        return self._dated_action(
            request,
            queryset,
            "mark_refunded",
            "Terugbetaling registreren",
            "Op welke datum is het geld van deze creditfactuur teruggestort? Alleen "
            "creditfacturen van betaalde facturen met een open terugbetaling tellen mee.",
            record,
            "Terugbetaald",
            ("refunded_on", "Terugbetaald op"),
        )

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
        apply_to_each(
            self,
            request,
            queryset.order_by("number"),
            lambda invoice: (
                f"{invoice.number} gecrediteerd met "
                f"{issuing.credit_invoice(invoice, by=request.user).number}"
            ),
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
        queued = Queued()

        def step(invoice):
            # A missing or damaged document is reported now, not by the worker.
            for kind in kinds(invoice):
                document_bytes(invoice, kind)
            queued.results.append(tasks.send_invoice_email.enqueue(invoice.pk))
            return f"{invoice.number} naar {invoice.customer_email}"

        apply_to_each(self, request, queryset.order_by("number"), step, "Mailen")
        registrations_admin.report_mail(self, request, queued, "Factuurmail")
        return None

    @admin.action(description="Pdf controleren en herstellen", permissions=["issue_invoice"])
    def restore_documents(self, request, queryset):
        """The PDF and, when the invoice has one, the e-invoice."""

        def step(invoice):
            return "; ".join(
                f"{Kind(kind).label} van {invoice.number} hersteld (controlesom klopt)"
                if restore(invoice, kind)
                else f"{Kind(kind).label} van {invoice.number} is in orde"
                for kind in kinds(invoice)
            )

        apply_to_each(self, request, queryset.order_by("number"), step, "Gecontroleerd")
