from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, register_converter, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.text import capfirst

from programme.models import Edition, InvoiceMoment, amsterdam_date
from registrations.accesslog.log import Kind as AccessKind
from registrations.accesslog.log import record as record_access
from registrations.models import Registration
from registrations.organisations.models import Organisation
from werkplaats import formats
from werkplaats.admin_tools import (
    ReadOnlyAdminMixin,
    admin_page,
    apply_to_each,
    confirm_page,
    mail_preview,
    report_mail,
)
from werkplaats.exports import csv_response
from werkplaats.formats import money
from werkplaats.queue import Queued

from . import admin_views, emails, exports, issuing, jobs, overview, sending, tasks
from .models import (
    INVOICE_FROZEN_FIELDS,
    ORDER_FROZEN_FIELDS,
    BulkJob,
    Invoice,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRefused,
    OrderInvoicing,
    on_standing_invoice,
)


class InvoiceNumberConverter:
    """Invoice numbers are letters, digits and - _ . (InvoiceIssuer's prefix rule): anything
    else, such as a NUL byte PostgreSQL would refuse in a query, is a 404 before a view runs,
    and so is one longer than Invoice.number holds (40)."""

    regex = r"[A-Za-z0-9_.\-]{1,40}"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(InvoiceNumberConverter, "invoice_number")

REFUSALS = jobs.REFUSALS


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
    """The invoice's one state (Invoice.status(), in SQL), and finance's queue of invoices
    to credit."""

    title = "status"
    parameter_name = "status"
    TO_CREDIT = "to_credit"

    def lookups(self, request, model_admin):
        return [
            *Invoice.Status.choices,
            (self.TO_CREDIT, "te crediteren (inschrijving geannuleerd)"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == self.TO_CREDIT:
            return queryset.to_credit()
        if value in Invoice.Status.values:
            return queryset.in_state(value)
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


class InvoiceOrganisationFilter(admin.SimpleListFilter):
    """The invoices of one organisation of the register, reached from its page and from the
    outstanding overview; listed only when chosen."""

    title = "organisatie"
    parameter_name = "organisatie"

    def lookups(self, request, model_admin):
        value = self.value() or ""
        organisation = Organisation.objects.filter(pk=value).first() if value.isdigit() else None
        return [(str(organisation.pk), str(organisation))] if organisation else []

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.of_organisation(int(self.value()))
        return queryset


class InvoicingOrganisationMixin:
    """What invoicing adds to the organisation register's admin: the organisation's invoices,
    read-only, with a link to them in the invoice list (`fieldsets`, the addition only)."""

    fieldsets = [("Facturen van deze organisatie", {"fields": ["organisation_invoices"]})]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "organisation_invoices"]

    @admin.display(description="facturen")
    def organisation_invoices(self, organisation):
        if organisation.pk is None:
            return "–"
        invoices = list(Invoice.objects.of_organisation(organisation.pk).order_by("-pk")[:20])
        if not invoices:
            return "Nog geen facturen."
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a>, {}, {}, {}</li>',
            (
                (
                    reverse("admin:invoicing_invoice_change", args=[invoice.pk]),
                    invoice,
                    formats.numeric_date(invoice.invoice_date),
                    money(invoice.total_incl_vat),
                    invoice.status().label,
                )
                for invoice in invoices
            ),
        )
        everything = reverse("admin:invoicing_invoice_changelist")
        return format_html(
            '<ul>{}</ul><p><a href="{}?organisatie={}">Alle facturen van {} in de lijst</a></p>',
            rows,
            everything,
            organisation.pk,
            organisation,
        )


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


class InvoicingRegistrationMixin:
    """What invoicing adds to sign-up's registration admin: the invoices, a "gefactureerd /
    te factureren" column and filter, issuing, and the correction path for invoiced ones.
    `list_display`, `list_filter` and `actions` hold the additions only; werkplaats/admin.py
    joins them to sign-up's."""

    list_display = ["billing"]
    list_filter = [BillingFilter]
    actions = ["issue_invoices", "issue_combined_invoice"]
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
        groups = issuing.invoice_groups(Registration.objects.filter(pk__in=queryset.values("pk")))

        def step(registrations):
            invoice = issuing.issue_invoice(registrations, by=request.user)
            return f"factuur {invoice.number} voor {_who(registrations)}"

        apply_to_each(
            self,
            request,
            groups,
            step,
            "Aangemaakt",
            refusals=REFUSALS,
            log=False,
            failed=not_issued,
        )
        return None

    @admin.action(
        description="Samen factureren: één factuur (zelfde organisatie en kenmerk)",
        permissions=["issue_invoice"],
    )
    def issue_combined_invoice(self, request, queryset):
        def step(registrations):
            invoice = issuing.issue_invoice(registrations, by=request.user)
            return f"factuur {invoice.number} voor {_who(registrations)}"

        apply_to_each(
            self,
            request,
            [list(queryset)],
            step,
            "Aangemaakt",
            refusals=REFUSALS,
            log=False,
            failed=not_issued,
        )

    def get_urls(self):
        return [
            path(
                "<int:object_id>/corrigeren/",
                admin_page(self, admin_views.correct_registration),
                name="registrations_registration_correct",
            ),
            *super().get_urls(),
        ]


def not_issued(registrations):
    return f"Factuur voor {_who(registrations)} is niet gemaakt"


def _who(registrations):
    references = ", ".join(r.reference for r in registrations)
    orders = {r.order_id for r in registrations}
    if len(registrations) > 1 and len(orders) == 1:
        return f"{registrations[0].order.reference} ({references})"
    return references


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


class PaysAfterForm(forms.Form):
    pays_after = forms.DateField(
        label="Betaalt na",
        required=False,
        input_formats=["%Y-%m-%d", "%d-%m-%Y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leeg: de bestelling betaalt gewoon binnen de betalingstermijn.",
    )


class InvoicingEditionMixin:
    """What invoicing adds to programme's edition admin: when invoices leave (`fieldsets`,
    the addition only). Finance chooses it (invoicing.issue_invoice); others see it."""

    INVOICE_MOMENT_FIELDS = ["invoice_moment", "invoice_on"]
    fieldsets = [("Facturen versturen", {"fields": [("invoice_moment", "invoice_on")]})]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if request.user.has_perm("invoicing.issue_invoice"):
            return [name for name in readonly if name not in self.INVOICE_MOMENT_FIELDS]
        return [*readonly, *(f for f in self.INVOICE_MOMENT_FIELDS if f not in readonly)]


class HeldForInvoicingFilter(admin.SimpleListFilter):
    """Finance's worklist of orders that wait for invoice details (overview.held_orders)."""

    title = "facturatie"
    parameter_name = "factuurgegevens"
    HELD = "wacht"

    def lookups(self, request, model_admin):
        return [(self.HELD, "wacht op factuurgegevens")]

    def queryset(self, request, queryset):
        if self.value() == self.HELD:
            return queryset.filter(pk__in=overview.held_orders().values("pk"))
        return queryset


class InvoicingOrderMixin:
    """What invoicing adds to sign-up's order admin: its invoices, why it is held (the
    worklist of orders waiting for invoice details, with the reason), the date after which it
    pays, and the actions that issue and mail its invoice (`inlines`, `fieldsets`, `actions`,
    `list_filter`, `list_display`: the additions only); once invoiced, the invoice details
    change only through 'Corrigeren en opnieuw factureren' on a participant (the database
    holds that too)."""

    inlines = [OrderInvoiceInline]
    fieldsets = [("Facturatie", {"fields": ["invoicing_state"]})]
    actions = ["issue_and_send_orders", "resend_order_invoices", "set_pays_after"]
    list_filter = [HeldForInvoicingFilter]
    list_display = ["invoicing_hold"]

    @admin.display(description="wacht op")
    def invoicing_hold(self, order):
        return order.invoicing_blocker() or "–"

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        readonly = [*readonly, "invoicing_state"]
        if obj is not None and obj.positions.filter(on_standing_invoice()).exists():
            readonly = [*readonly, *ORDER_FROZEN_FIELDS]
        return readonly

    @admin.display(description="facturatie")
    def invoicing_state(self, order):
        state = OrderInvoicing.objects.filter(order=order).first()
        parts = [f"Facturen versturen: {order.edition.get_invoice_moment_display()}"]
        if order.edition.invoice_moment == InvoiceMoment.ON_DATE and order.edition.invoice_on:
            parts[0] += f" ({formats.day(order.edition.invoice_on)})"
        if state and state.held_reason:
            parts.append(
                f"Niet gefactureerd op {formats.moment(state.held_at)}, want: {state.held_reason}"
            )
        if state and state.pays_after:
            parts.append(f"Betaalt na {formats.day(state.pays_after)}: tot dan geen herinneringen")
        return format_html_join(mark_safe("<br>"), "{}", ((part,) for part in parts))

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("invoicing.issue_invoice")

    def has_send_invoice_permission(self, request):
        return request.user.has_perm("invoicing.send_invoice")

    @admin.action(
        description="Factureren en versturen… (één factuur per bestelling)",
        permissions=["issue_invoice"],
    )
    def issue_and_send_orders(self, request, queryset):
        orders = queryset.select_related("edition").order_by("pk")
        if "apply" not in request.POST:
            return confirm_page(
                self,
                request,
                queryset,
                "issue_and_send_orders",
                "Factureren en versturen",
                "Per bestelling één factuur voor de bevestigde deelnemers zonder factuur, "
                "gemaild naar het factuuradres van de bestelling. Een factuur die al gemaild "
                "is, gaat niet nog een keer; daarvoor is 'Factuur opnieuw versturen'.",
                rows=[_send_plan(order) for order in orders],
            )
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.SEND, queryset)
        queued = Queued()

        def step(order):
            if not sending.to_invoice(order).exists() and not sending.unsent(order).exists():
                raise InvoiceRefused(
                    f"{order.reference}: iedereen is al gefactureerd en gemaild (of niemand is "
                    "bevestigd)."
                )
            invoice = sending.issue(order, by=request.user)
            # Mailing goes through the order's job, which mails each invoice once.
            queued.results.append(tasks.invoice_order.enqueue(order.pk))
            issued = f"factuur {invoice.number}" if invoice else "al gefactureerd"
            return f"{order.reference}: {issued}, naar {order.invoice_email}"

        apply_to_each(
            self,
            request,
            orders,
            step,
            "Gefactureerd",
            refusals=REFUSALS,
            failed=lambda order: f"Factuur voor {order.reference} is niet gemaakt of verstuurd",
        )
        report_mail(self, request, queued, "Factuurmail")
        return None

    @admin.action(description="Factuur opnieuw versturen…", permissions=["send_invoice"])
    def resend_order_invoices(self, request, queryset):
        orders = queryset.order_by("pk")
        invoices = Invoice.objects.invoices().uncredited().filter(order__in=orders)
        invoices = invoices.order_by("number")
        if "apply" not in request.POST:
            return confirm_page(
                self,
                request,
                queryset,
                "resend_order_invoices",
                "Factuur opnieuw versturen?",
                "De klant krijgt de factuur dan nog een keer; dat kan tot een dubbele betaling "
                "leiden. Bestellingen zonder openstaande factuur worden overgeslagen.",
                rows=[
                    f"{invoice.number} is al gemaild op {formats.moment(invoice.emailed_at)}"
                    for invoice in invoices
                    if invoice.emailed_at
                ],
                mail=mail_preview(
                    "De factuur",
                    list(invoices),
                    _invoice_recipient if is_large(queryset) else _checked_invoice_recipient,
                    emails.invoice_message,
                    REFUSALS,
                ),
            )
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.RESEND, queryset)
        queued = Queued()

        def step(order):
            mine = [invoice for invoice in invoices if invoice.order_id == order.pk]
            if not mine:
                raise InvoiceRefused(f"{order.reference} heeft geen openstaande factuur.")
            for invoice in mine:
                jobs.check_documents(invoice)
            for invoice in mine:
                queued.results.append(tasks.send_invoice_email.enqueue(invoice.pk))
            numbers = ", ".join(invoice.number for invoice in mine)
            return f"{order.reference}: {numbers} opnieuw naar {order.invoice_email}"

        apply_to_each(self, request, orders, step, "Opnieuw versturen", refusals=REFUSALS)
        report_mail(self, request, queued, "Factuurmail")
        return None

    @admin.action(description="Betaalt na afloop…", permissions=["issue_invoice"])
    def set_pays_after(self, request, queryset):
        form = PaysAfterForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                "set_pays_after",
                "Betaalt na afloop",
                "Tot en met deze dag krijgen de facturen van deze bestellingen geen "
                "betalingsherinnering, ook als ze al vervallen zijn.",
                form,
            )
        day = form.cleaned_data["pays_after"]

        def step(order):
            OrderInvoicing.set_pays_after(order, day, by=request.user)
            if day is None:
                return f"{order.reference} betaalt weer binnen de termijn"
            return f"{order.reference} betaalt na {formats.day(day)}"

        apply_to_each(self, request, queryset.order_by("pk"), step, "Vastgelegd")
        return None


def _send_plan(order):
    names = ", ".join(registration.reference for registration in sending.to_invoice(order))
    unsent = ", ".join(invoice.number for invoice in sending.unsent(order))
    parts = []
    if names:
        parts.append(f"nieuwe factuur voor {names}")
    if unsent:
        parts.append(f"nog niet gemaild: {unsent}")
    plan = "; ".join(parts) or "niets te doen"
    return f"{order.reference} ({order.invoice_organisation}, {order.invoice_email}): {plan}"


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


class InvoiceChangeList(ChangeList):
    """The invoice list, with each row's participants fetched in one query for the page."""

    def get_queryset(self, request, exclude_parameters=None):
        lines = InvoiceLine.objects.select_related("registration").order_by("position")
        return (
            super()
            .get_queryset(request, exclude_parameters)
            .prefetch_related(Prefetch("lines", queryset=lines))
        )


class InvoiceAdmin(InvoiceDisplayMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    # Finance's list must fit a laptop with the sidebar and the filters open (1366 px): what
    # belongs together shares a cell (number, kind and date; customer, order and people; the
    # amount and its parts; both documents), the dates finance acts on keep their own.
    list_display = [
        "number_kind_and_date",
        "customer_and_order",
        "amounts",
        "status_and_documents",
        "dates",
    ]
    list_display_links = ["number_kind_and_date"]
    # The totals of what the filters and search leave, under the list.
    change_list_template = "invoicing/invoice_change_list.html"
    # Each invoice an action will touch, with its customer and state (confirm_page).
    action_confirmation_template = "invoicing/admin_confirm.html"
    list_filter = [
        InvoiceStatusFilter,
        InvoiceYearFilter,
        InvoiceEditionFilter,
        InvoiceOrganisationFilter,
        "kind",
        # "leeg": not e-mailed yet, the overview's worklist.
        ("emailed_at", admin.EmptyFieldListFilter),
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

    class Media:
        css = {"all": ["css/admin_lists.css"]}

    def get_readonly_fields(self, request, obj=None):
        return list(flatten_fieldsets(self.fieldsets))

    def get_queryset(self, request):
        return super().get_queryset(request).with_edition_label()

    def get_changelist(self, request, **kwargs):
        return InvoiceChangeList

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            totals = changelist.queryset.totals()
            response.context_data["totals"] = {key: money(value) for key, value in totals.items()}
        return response

    @admin.display(description="factuur", ordering="number")
    def number_kind_and_date(self, invoice):
        return format_html(
            "{}<br><small>{} {}</small>",
            invoice.number,
            invoice.get_kind_display(),
            formats.numeric_date(invoice.invoice_date),
        )

    @admin.display(description="klant, bestelling, editie", ordering="customer_organisation")
    def customer_and_order(self, invoice):
        return format_html(
            "{}<br><small>{}<br>editie {}</small>",
            invoice.customer_organisation,
            self.order_or_participants(invoice),
            self.edition_label(invoice),
        )

    @admin.display(description="incl. btw", ordering="total_incl_vat")
    def amounts(self, invoice):
        return format_html(
            "{}<br><small>excl. {}</small>",
            money(invoice.total_incl_vat),
            money(invoice.total_excl_vat),
        )

    @admin.display(description="data", ordering="due_date")
    def dates(self, invoice):
        return format_html(
            '<span class="due-on">vervalt {}</span><br><small class="paid-on">betaald {}</small>'
            '<br><small class="emailed-on">gemaild {}</small>',
            self.due_on(invoice),
            self.paid_on_short(invoice),
            self.emailed_on(invoice),
        )

    @admin.display(description="status")
    def status_and_documents(self, invoice):
        return format_html(
            '<span class="invoice-status">{}</span><br><small>{}</small>',
            invoice.status().label,
            self.documents(invoice),
        )

    def documents(self, invoice):
        links = []
        if invoice.pdf_sha256:
            links.append(
                (
                    reverse("admin:invoicing_invoice_pdf", args=[invoice.number]),
                    "pdf",
                    invoice.filename,
                )
            )
        if invoice.ubl_sha256:
            links.append(
                (
                    reverse("admin:invoicing_invoice_ubl", args=[invoice.number]),
                    "xml",
                    invoice.ubl_filename,
                )
            )
        if not links:
            return "–"
        # Named by the file (which holds the visible "pdf" or "xml"), for screen readers.
        return format_html_join(
            " ",
            '<a href="{}" aria-label="{}" title="{}">{}</a>',
            ((url, name, name, label) for url, label, name in links),
        )

    @admin.display(description="editie", ordering="edition_start")
    def edition_label(self, invoice):
        if invoice.edition_start is None:
            return "–"
        return format_html(
            '<span title="{}">{}</span>',
            invoice.edition_title,
            formats.numeric_date(invoice.edition_start),
        )

    @admin.display(description="bestelling of deelnemers")
    def order_or_participants(self, invoice):
        names = ", ".join(line.registration.full_name for line in invoice.lines.all())
        if invoice.order_id is None:
            # Combined from several orders: its participants say whom it bills.
            return names or "–"
        url = reverse("admin:registrations_order_change", args=[invoice.order_id])
        return format_html('<a href="{}">{}</a> {}', url, invoice.order.reference, names)

    @admin.display(description="vervaldatum", ordering="due_date")
    def due_on(self, invoice):
        return formats.numeric_date(invoice.due_date)

    @admin.display(description="betaald op", ordering="paid_on")
    def paid_on_short(self, invoice):
        return formats.numeric_date(invoice.paid_on) if invoice.paid_on else "–"

    @admin.display(description="gemaild op", ordering="emailed_at")
    def emailed_on(self, invoice):
        if invoice.emailed_at is None:
            return "–"
        return formats.numeric_date(timezone.localtime(invoice.emailed_at))

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
                admin_page(self, admin_views.invoice_pdf),
                name="invoicing_invoice_pdf",
            ),
            path(
                "<invoice_number:number>/xml/",
                admin_page(self, admin_views.invoice_ubl),
                name="invoicing_invoice_ubl",
            ),
            *super().get_urls(),
        ]

    def has_credit_invoice_permission(self, request):
        return request.user.has_perm("invoicing.credit_invoice")

    def has_mark_paid_permission(self, request):
        return request.user.has_perm("invoicing.mark_paid")

    def has_send_invoice_permission(self, request):
        return request.user.has_perm("invoicing.send_invoice")

    def has_issue_invoice_permission(self, request):
        return request.user.has_perm("invoicing.issue_invoice")

    @admin.action(
        description="Download geselecteerde pdf's en e-facturen (ZIP)", permissions=["view"]
    )
    def download_zip(self, request, queryset):
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.ZIP, queryset)
        invoices = list(queryset.order_by("number"))
        try:
            content = exports.invoices_zip(invoices)
        except InvoiceRefused as refusal:
            self.message_user(request, str(refusal), messages.ERROR)
            return None
        record_access(AccessKind.EXPORT, "Facturen (ZIP)", request=request, count=len(invoices))
        response = HttpResponse(content, content_type="application/zip")
        response["Content-Disposition"] = 'attachment; filename="facturen.zip"'
        return response

    @admin.action(
        description="Exporteer voor de boekhouding (CSV, per factuur en btw-tarief)",
        permissions=["view"],
    )
    def export_bookkeeping(self, request, queryset):
        invoices = list(
            queryset.select_related("credited_invoice", "credit_note")
            .prefetch_related("lines")
            .order_by("series", "sequence")
        )
        record_access(
            AccessKind.EXPORT,
            "Facturen voor de boekhouding (CSV)",
            request=request,
            count=len(invoices),
        )
        rows = exports.bookkeeping_rows(invoices)
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
            refusals=REFUSALS,
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
            refusals=REFUSALS,
            failed=lambda invoice: f"Creditfactuur voor {invoice.number} is niet gemaakt",
        )
        return None

    @admin.action(
        description="Mail de pdf en e-factuur naar het factuuradres…", permissions=["send_invoice"]
    )
    def email_invoices(self, request, queryset):
        if "apply" not in request.POST:
            # Nothing is sent on the first click: to whom, who not and why, one message.
            invoices = list(queryset.order_by("number"))
            already = [invoice for invoice in invoices if invoice.emailed_at]
            return confirm_page(
                self,
                request,
                queryset,
                "email_invoices",
                "Opnieuw mailen?" if already else "Facturen mailen",
                "Een deel van deze facturen is al gemaild. Mail je ze nog een keer, dan krijgt "
                "de klant ze dubbel; dat kan tot een dubbele betaling leiden."
                if already
                else "",
                rows=[
                    f"{invoice.number} is al gemaild op "
                    f"{formats.moment(invoice.emailed_at)} naar "
                    f"{invoice.customer_email}"
                    for invoice in already
                ],
                # A large selection is mailed by a job, which checks each document then;
                # reading them all here would outlast the request.
                mail=mail_preview(
                    "De factuur",
                    invoices,
                    _invoice_recipient if is_large(queryset) else _checked_invoice_recipient,
                    emails.invoice_message,
                    REFUSALS,
                ),
            )
        if is_large(queryset):
            return start_job(self, request, BulkJob.Kind.EMAIL, queryset)
        queued = Queued()

        def step(invoice):
            # A missing or damaged document is reported now, not by the worker.
            jobs.check_documents(invoice)
            queued.results.append(tasks.send_invoice_email.enqueue(invoice.pk))
            return f"{invoice.number} naar {invoice.customer_email}"

        apply_to_each(self, request, queryset.order_by("number"), step, "Mailen", refusals=REFUSALS)
        report_mail(self, request, queued, "Factuurmail")
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
            refusals=REFUSALS,
        )
        return None


def _invoice_recipient(invoice):
    return f"{invoice.number}: {invoice.customer_organisation} <{invoice.customer_email}>"


def _checked_invoice_recipient(invoice):
    jobs.check_documents(invoice)  # refuses with the reason the action would
    return _invoice_recipient(invoice)


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
                "<int:object_id>/download/",
                admin_page(self, admin_views.bulk_job_download),
                name="invoicing_bulkjob_download",
            ),
            *super().get_urls(),
        ]
