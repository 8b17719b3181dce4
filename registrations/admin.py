import csv
import io

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from programme.models import amsterdam_date

from . import emails, invoices
from .models import Invoice, InvoiceIssuer, InvoiceLine, Registration


def csv_response(filename, header, rows):
    """A CSV download Excel opens correctly: UTF-8 with a byte-order mark, semicolons."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    writer.writerows(rows)
    return response


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "full_name",
        "organisation",
        "sector",
        "edition",
        "status",
        "created_at",
        "email",
    ]
    list_filter = [
        "edition",
        "status",
        "sector",
        "role",
        "overnight_stay",
        # "Leeg" finds the confirmations the mail server refused, to resend them.
        ("confirmation_sent_at", admin.EmptyFieldListFilter),
    ]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "organisation",
        "invoice_organisation",
        "po_number",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["edition"]
    readonly_fields = [
        "reference",
        "token",
        "created_at",
        "updated_at",
        "cancelled_at",
        "confirmation_sent_at",
        "anonymised_at",
    ]
    actions = [
        "confirm_from_waiting_list",
        "cancel_registrations",
        "resend_confirmation",
        "export_participants",
        "export_venue_list",
        "issue_invoices",
    ]
    fieldsets = [
        (None, {"fields": ["edition", "status", "reference"]}),
        (
            "Deelnemer",
            {
                "fields": [
                    ("first_name", "last_name"),
                    ("email", "phone"),
                    ("organisation", "job_title"),
                    ("sector", "role"),
                ]
            },
        ),
        (
            "Deelname",
            {"fields": ["own_case", "dietary_needs", "accessibility_needs", "overnight_stay"]},
        ),
        (
            "Factuurgegevens",
            {
                "fields": [
                    "invoice_organisation",
                    "invoice_attention",
                    "invoice_street",
                    ("invoice_postcode", "invoice_city"),
                    "invoice_country",
                    "invoice_email",
                    ("po_number", "vat_id"),
                ]
            },
        ),
        (
            "Administratie",
            {
                "fields": [
                    ("terms_accepted_at", "privacy_accepted_at"),
                    ("created_at", "updated_at"),
                    ("cancelled_at", "confirmation_sent_at"),
                    "anonymised_at",
                    "token",
                ]
            },
        ),
    ]

    def get_inlines(self, request, obj):
        return [*super().get_inlines(request, obj), RegistrationInvoiceInline]

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("registrations.issue_invoice")

    @admin.action(description="Factuur aanmaken", permissions=["issue_invoice"])
    def issue_invoices(self, request, queryset):
        issue_invoices_for(self, request, queryset)

    def get_changeform_initial_data(self, request):
        # Staff adding a registration by hand (e.g. after the deadline) record consent now.
        now = timezone.now()
        return {
            "terms_accepted_at": now,
            "privacy_accepted_at": now,
            **super().get_changeform_initial_data(request),
        }

    @admin.action(
        description="Bevestigen vanaf wachtlijst (als er plaats is)", permissions=["change"]
    )
    def confirm_from_waiting_list(self, request, queryset):
        confirmed, refused = 0, 0
        for registration in queryset.filter(status=Registration.Status.WAITING).order_by(
            "created_at"
        ):
            if registration.confirm_from_waiting_list():
                confirmed += 1
                emails.send_confirmation(registration)
            else:
                refused += 1
        skipped = queryset.exclude(status=Registration.Status.WAITING).count()
        if confirmed:
            self.message_user(
                request, f"{confirmed} inschrijving(en) bevestigd en gemaild.", messages.SUCCESS
            )
        if refused:
            self.message_user(
                request,
                f"{refused} inschrijving(en) niet bevestigd: de editie is vol.",
                messages.WARNING,
            )
        if skipped:
            self.message_user(
                request,
                f"{skipped} inschrijving(en) overgeslagen: die stonden niet op de wachtlijst.",
                messages.INFO,
            )

    @admin.action(description="Annuleren", permissions=["change"])
    def cancel_registrations(self, request, queryset):
        cancelled = 0
        for registration in queryset.active():
            registration.cancel()
            cancelled += 1
        self.message_user(
            request,
            f"{cancelled} inschrijving(en) geannuleerd. Is er al gefactureerd, maak dan een "
            "creditfactuur.",
            messages.SUCCESS,
        )

    @admin.action(description="Bevestiging opnieuw versturen", permissions=["change"])
    def resend_confirmation(self, request, queryset):
        sent = failed = 0
        for registration in queryset.active().select_related("edition"):
            if emails.send_confirmation(registration):
                sent += 1
            else:
                failed += 1
        if sent:
            self.message_user(request, f"{sent} bevestiging(en) verstuurd.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"{failed} bevestiging(en) konden niet worden verstuurd: de mailserver "
                "reageert niet. Probeer het later opnieuw.",
                messages.ERROR,
            )

    @admin.action(description="Exporteer deelnemerslijst (CSV)", permissions=["view"])
    def export_participants(self, request, queryset):
        header = [
            "Referentie",
            "Editie",
            "Status",
            "Voornaam",
            "Achternaam",
            "E-mail",
            "Telefoon",
            "Organisatie",
            "Functie",
            "Sector",
            "Rol",
            "Overnachten",
            "Kenmerk factuur",
            "Ingeschreven op",
        ]
        rows = (
            [
                r.reference,
                r.edition.title,
                r.get_status_display(),
                r.first_name,
                r.last_name,
                r.email,
                r.phone,
                r.organisation,
                r.job_title,
                r.get_sector_display(),
                r.get_role_display(),
                "ja" if r.overnight_stay else "nee",
                r.po_number,
                timezone.localtime(r.created_at).strftime("%d-%m-%Y %H:%M"),
            ]
            for r in queryset.select_related("edition").order_by("last_name", "first_name")
        )
        return csv_response("deelnemers.csv", header, rows)

    @admin.action(
        description="Exporteer lijst voor de locatie: dieet en toegankelijkheid (CSV)",
        permissions=["view"],
    )
    def export_venue_list(self, request, queryset):
        header = ["Naam", "Organisatie", "Overnachten", "Dieetwensen", "Toegankelijkheid/wensen"]
        rows = (
            [
                r.full_name,
                r.organisation,
                "ja" if r.overnight_stay else "nee",
                r.dietary_needs,
                r.accessibility_needs,
            ]
            for r in queryset.active().order_by("last_name", "first_name")
        )
        return csv_response("locatie-dieet-toegankelijkheid.csv", header, rows)


class MarkPaidForm(forms.Form):
    paid_on = forms.DateField(
        label="Betaald op",
        input_formats=["%Y-%m-%d", "%d-%m-%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_paid_on(self):
        paid_on = self.cleaned_data["paid_on"]
        if paid_on > amsterdam_date(timezone.now()):
            raise forms.ValidationError("Een betaaldatum kan niet in de toekomst liggen.")
        return paid_on


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
            return queryset.uncredited().filter(registration__status=Registration.Status.CANCELLED)
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
        return invoices.format_money(invoice.total_incl_vat)

    @admin.display(description="status")
    def status_label(self, invoice):
        return invoice.status().label

    @admin.display(description="pdf")
    def pdf_link(self, invoice):
        if not invoice.pk or not invoice.pdf:
            return "–"
        url = reverse("admin:registrations_invoice_pdf", args=[invoice.number])
        return format_html('<a href="{}">{}</a>', url, invoice.filename)


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
    fields = ["number_link", "kind", "invoice_date", "incl_vat", "status_label", "pdf_link"]
    readonly_fields = fields
    extra = 0
    verbose_name_plural = "facturen"

    @admin.display(description="nummer")
    def number_link(self, invoice):
        url = reverse("admin:registrations_invoice_change", args=[invoice.pk])
        return format_html('<a href="{}">{}</a>', url, invoice.number)


def issue_invoices_for(modeladmin, request, queryset):
    """The registrations admin's 'Factuur aanmaken': one invoice per selected registration."""
    issued, refused = [], []
    for registration in queryset.select_related("edition").order_by("created_at"):
        try:
            invoice = invoices.issue_invoice(registration, by=request.user)
        except invoices.InvoiceRefused as refusal:
            refused.append(str(refusal))
        else:
            issued.append(invoice.number)
            modeladmin.log_change(request, registration, f"Factuur {invoice.number} aangemaakt.")
    if issued:
        modeladmin.message_user(
            request,
            f"{len(issued)} factuur/facturen aangemaakt: {', '.join(issued)}.",
            messages.SUCCESS,
        )
    for reason in refused:
        modeladmin.message_user(request, f"Overgeslagen: {reason}", messages.WARNING)


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
        issuer = InvoiceIssuer.objects.first()
        if issuer:
            return redirect("admin:registrations_invoiceissuer_change", issuer.pk)
        return redirect("admin:registrations_invoiceissuer_add")


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
    ]
    list_filter = [
        InvoiceStatusFilter,
        InvoiceYearFilter,
        ("registration__edition", admin.RelatedOnlyFieldListFilter),
        "kind",
    ]
    search_fields = ["number", "customer_organisation", "customer_attention", "po_number"]
    list_select_related = ["credit_note", "registration"]
    inlines = [InvoiceLineInline]
    actions = [
        "download_zip",
        "export_bookkeeping",
        "mark_paid",
        "create_credit_notes",
        "email_invoices",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("number", "kind"),
                    "status_label",
                    "pdf_link",
                    "pdf_sha256",
                    ("invoice_date", "due_date"),
                    ("supply_start", "supply_end"),
                    "credited_invoice",
                    "registration",
                    ("issued_at", "issued_by"),
                    ("paid_on", "emailed_at"),
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
        return [field for row in self.fieldsets for field in _flatten(row[1]["fields"])]

    def get_urls(self):
        return [
            path(
                "<path:number>/pdf/",
                self.admin_site.admin_view(self.pdf_view),
                name="registrations_invoice_pdf",
            ),
            *super().get_urls(),
        ]

    def pdf_view(self, request, number):
        """The PDF stored at issue time, for users who may view invoices; never re-rendered."""
        # A download needs the stored file and its checksum, not the whole snapshot.
        invoice = get_object_or_404(
            Invoice.objects.only("number", "pdf", "pdf_sha256"), number=number
        )
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        try:
            content = invoices.pdf_bytes(invoice)
        except invoices.InvoiceRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return redirect("admin:registrations_invoice_changelist")
        return FileResponse(
            io.BytesIO(content),
            as_attachment=True,
            filename=invoice.filename,
            content_type="application/pdf",
        )

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("registrations.issue_invoice")

    def has_credit_invoice_permission(self, request):
        return request.user.has_perm("registrations.credit_invoice")

    def has_mark_paid_permission(self, request):
        return request.user.has_perm("registrations.mark_paid")

    def has_send_invoice_permission(self, request):
        return request.user.has_perm("registrations.send_invoice")

    @admin.display(description="excl. btw", ordering="total_excl_vat")
    def excl_vat(self, invoice):
        return invoices.format_money(invoice.total_excl_vat)

    @admin.display(description="btw", ordering="total_vat")
    def vat(self, invoice):
        return invoices.format_money(invoice.total_vat)

    @admin.action(description="Download geselecteerde pdf's (ZIP)", permissions=["view"])
    def download_zip(self, request, queryset):
        try:
            content = invoices.invoices_zip(queryset.order_by("number"))
        except invoices.InvoiceRefused as refusal:
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
        rows = invoices.bookkeeping_rows(
            queryset.select_related("credited_invoice")
            .prefetch_related("lines")
            .order_by("series", "sequence")
        )
        return csv_response("facturen-boekhouding.csv", invoices.BOOKKEEPING_HEADER, rows)

    def _confirm(self, request, queryset, action, title, text, form=None):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "text": text,
            "queryset": queryset,
            "form": form,
            "action": action,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "invoices/admin_confirm.html", context)

    @admin.action(description="Markeer als betaald…", permissions=["mark_paid"])
    def mark_paid(self, request, queryset):
        form = MarkPaidForm(
            request.POST if "apply" in request.POST else None,
            initial={"paid_on": amsterdam_date(timezone.now())},
        )
        if not form.is_valid():
            return self._confirm(
                request,
                queryset,
                "mark_paid",
                "Facturen als betaald markeren",
                "Op welke datum is het geld binnengekomen? Creditfacturen, gecrediteerde en "
                "al betaalde facturen worden overgeslagen.",
                form,
            )
        paid_on = form.cleaned_data["paid_on"]
        marked = 0
        for invoice in queryset.unpaid():
            invoice.paid_on = paid_on
            invoice.save(update_fields=["paid_on"])
            self.log_change(request, invoice, f"Betaald op {paid_on:%d-%m-%Y}.")
            marked += 1
        self.message_user(request, f"{marked} factuur/facturen als betaald gemarkeerd.")
        skipped = queryset.count() - marked
        if skipped:
            self.message_user(
                request,
                f"{skipped} overgeslagen: creditfactuur, gecrediteerd of al betaald.",
                messages.WARNING,
            )
        return None

    @admin.action(description="Creditfactuur maken…", permissions=["credit_invoice"])
    def create_credit_notes(self, request, queryset):
        if "apply" not in request.POST:
            return self._confirm(
                request,
                queryset,
                "create_credit_notes",
                "Creditfactuur maken",
                "Voor elke gekozen factuur wordt een creditfactuur met een eigen nummer "
                "gemaakt. Dat kan niet ongedaan worden gemaakt. Daarna kan voor de inschrijving "
                "een nieuwe factuur worden gemaakt, bijvoorbeeld met een gecorrigeerd adres.",
            )
        made, refused = [], []
        for invoice in queryset.order_by("number"):
            try:
                credit = invoices.credit_invoice(invoice, by=request.user)
            except invoices.InvoiceRefused as refusal:
                refused.append(str(refusal))
            else:
                made.append(credit.number)
                self.log_change(request, invoice, f"Gecrediteerd met {credit.number}.")
        if made:
            self.message_user(
                request, f"Creditfactuur aangemaakt: {', '.join(made)}.", messages.SUCCESS
            )
        for reason in refused:
            self.message_user(request, f"Overgeslagen: {reason}", messages.WARNING)
        return None

    @admin.action(description="Mail de pdf naar het factuuradres", permissions=["send_invoice"])
    def email_invoices(self, request, queryset):
        sent, failed = [], []
        for invoice in queryset.select_related("registration", "credited_invoice"):
            try:
                ok = emails.send_invoice(invoice)
            except invoices.InvoiceRefused as refusal:
                self.message_user(request, str(refusal), messages.ERROR)
                continue
            (sent if ok else failed).append(invoice.number)
            if ok:
                self.log_change(request, invoice, f"Gemaild naar {invoice.customer_email}.")
        if sent:
            self.message_user(request, f"Gemaild: {', '.join(sent)}.", messages.SUCCESS)
        if failed:
            self.message_user(
                request,
                f"Niet verstuurd (de mailserver reageert niet): {', '.join(failed)}. "
                "Probeer het later opnieuw.",
                messages.ERROR,
            )


def _flatten(fields):
    for field in fields:
        if isinstance(field, (list, tuple)):
            yield from field
        else:
            yield field
