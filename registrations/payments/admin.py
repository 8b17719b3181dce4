from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from programme.models import amsterdam_date
from registrations.accesslog.log import Kind as AccessKind
from registrations.accesslog.log import record as record_access
from registrations.invoicing.jobs import REFUSALS
from werkplaats import formats
from werkplaats.admin_tools import (
    ReadOnlyAdminMixin,
    admin_page,
    apply_to_each,
    confirm_page,
    mail_preview,
)
from werkplaats.exports import csv_response
from werkplaats.formats import money
from werkplaats.middleware import accepts_uploads

from . import admin_views, bookkeeping, emails, matching, reminders
from .forms import HoldForm, TransferForm, parse_amount
from .models import (
    Allocation,
    Payment,
    Reminder,
    ReminderSettings,
)


class BankStatementAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "filename",
        "statement_ids",
        "account_iban",
        "uploaded_at",
        "uploaded_by",
        "entries",
        "known_entries",
        "matched",
        "unmatched_link",
    ]
    change_list_template = "payments/bankstatement_change_list.html"
    fields = list_display[:-1] + ["sha256"]
    readonly_fields = fields

    def get_queryset(self, request):
        unmatched = Count("payments", filter=Q(payments__state=Payment.State.UNMATCHED))
        return super().get_queryset(request).annotate(unmatched=unmatched)

    @admin.display(description="niet gekoppeld", ordering="unmatched")
    def unmatched_link(self, statement):
        count = statement.unmatched
        url = reverse("admin:payments_payment_changelist")
        return format_html(
            '<a href="{}?statement__id__exact={}&state__exact=unmatched">{}</a>',
            url,
            statement.pk,
            count,
        )

    def get_urls(self):
        return [
            path(
                "inlezen/",
                accepts_uploads(admin_page(self, admin_views.upload_statement)),
                name="payments_bankstatement_upload",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "may_upload": request.user.has_perm("payments.add_bankstatement"),
        }
        return super().changelist_view(request, extra_context)


class AllocationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Allocation
    fields = ["invoice", "amount"]
    readonly_fields = fields
    extra = 0


class PaymentAdmin(admin.ModelAdmin):
    list_display = [
        "booking_date",
        "amount_display",
        "counterparty_name",
        "remittance_short",
        "state",
        "invoices",
        "assign_link",
    ]
    list_filter = ["state", "source", "statement"]
    search_fields = ["counterparty_name", "counterparty_iban", "remittance", "note"]
    inlines = [AllocationInline]
    actions = ["mark_not_ours", "export_payments"]
    fields = [
        ("booking_date", "amount"),
        "state",
        "source",
        "statement",
        ("counterparty_name", "counterparty_iban"),
        "remittance",
        ("bank_reference", "account_iban"),
        "note",
        ("handled_by", "created_at"),
    ]
    readonly_fields = [
        name for row in fields for name in (row if isinstance(row, tuple) else [row])
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("allocations__invoice")

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        amount = _amount(search_term)
        if amount is not None:
            results = results | queryset.filter(amount__in=[amount, -amount])
        return results, duplicates

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Changing a payment means assigning it or marking it not ours; its fields are the
        # bank's and stay as read in.
        return request.user.has_perm("payments.change_payment")

    @admin.display(description="bedrag", ordering="amount")
    def amount_display(self, payment):
        return money(payment.amount)

    @admin.display(description="omschrijving")
    def remittance_short(self, payment):
        text = payment.remittance
        return text if len(text) <= 60 else f"{text[:57]}…"

    @admin.display(description="facturen")
    def invoices(self, payment):
        return ", ".join(a.invoice.number for a in payment.allocations.all()) or "–"

    @admin.display(description="")
    def assign_link(self, payment):
        if payment.state != Payment.State.UNMATCHED:
            return ""
        url = reverse("admin:payments_payment_assign", args=[payment.pk])
        return format_html('<a href="{}">Toewijzen…</a>', url)

    def get_urls(self):
        return [
            path(
                "<int:payment_id>/toewijzen/",
                admin_page(self, admin_views.assign_payment),
                name="payments_payment_assign",
            ),
            path(
                "overzicht/",
                admin_page(self, admin_views.outstanding_overview),
                name="payments_payment_overview",
            ),
            *super().get_urls(),
        ]

    @admin.action(description="Markeer als niet van ons", permissions=["change"])
    def mark_not_ours(self, request, queryset):
        apply_to_each(
            self,
            request,
            queryset.order_by("pk"),
            lambda p: f"{matching.mark_not_ours(p, by=request.user.get_username())}",
            "Niet van ons",
            refusals=REFUSALS,
        )

    @admin.action(description="Exporteer voor de boekhouding (CSV)", permissions=["view"])
    def export_payments(self, request, queryset):
        payments = list(bookkeeping.payments_for_export(queryset))
        record_access(
            AccessKind.EXPORT,
            "Betalingen voor de boekhouding (CSV)",
            request=request,
            count=len(payments),
        )
        rows = bookkeeping.payment_rows(payments)
        return csv_response("betalingen-boekhouding.csv", bookkeeping.PAYMENT_HEADER, rows)


def _reminder_recipient(invoice):
    reminder = reminders.next_reminder(invoice)
    return (
        f"{reminder.get_level_display()} voor {invoice.number}: "
        f"{invoice.customer_organisation} <{reminder.sent_to}>"
    )


def _amount(term):
    return parse_amount(term) if any(ch.isdigit() for ch in term) else None


class ReminderSettingsAdmin(admin.ModelAdmin):
    """One row: the list page goes straight to it."""

    fields = ["first_after_days", "first_text", "second_after_days", "second_text"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        # The row is made by the migration (0004); load() falls back to the defaults.
        return redirect("admin:payments_remindersettings_change", ReminderSettings.load().pk)


class ReminderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["invoice", "level", "sent_at", "sent_to", "outstanding", "by"]
    list_filter = ["level"]
    search_fields = ["invoice__number", "invoice__customer_organisation"]
    list_select_related = ["invoice"]


class InvoiceHoldAdmin(admin.ModelAdmin):
    """Invoices finance holds from reminders; deleting the hold lets them go out again."""

    list_display = ["invoice", "reason", "since", "by"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__number", "invoice__customer_organisation", "reason"]
    fields = ["invoice", "reason", "since", "by"]
    readonly_fields = ["invoice", "since", "by"]

    def has_add_permission(self, request):
        return False  # from the invoice list: "Herinneringen aanhouden…"

    def delete_model(self, request, obj):
        reminders.lift_hold(obj, by=request.user.get_username())

    def delete_queryset(self, request, queryset):
        for invoice_hold in queryset.select_related("invoice"):
            reminders.lift_hold(invoice_hold, by=request.user.get_username())


class LedgerAccountAdmin(admin.ModelAdmin):
    list_display = ["vat_rate", "revenue_account", "vat_code"]


class CostCentreAdmin(admin.ModelAdmin):
    list_display = ["edition", "code"]
    list_select_related = ["edition"]


class PaymentOnInvoiceInline(ReadOnlyAdminMixin, admin.TabularInline):
    """The payments on an invoice (and on a credit note, the refunds)."""

    model = Allocation
    fk_name = "invoice"
    verbose_name = "betaling"
    verbose_name_plural = "betalingen"
    fields = ["booking_date", "amount", "counterparty", "remittance", "source"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("payment")

    @admin.display(description="boekdatum")
    def booking_date(self, allocation):
        return allocation.payment.booking_date

    @admin.display(description="tegenpartij")
    def counterparty(self, allocation):
        return allocation.payment.counterparty_name

    @admin.display(description="omschrijving")
    def remittance(self, allocation):
        return allocation.payment.remittance

    @admin.display(description="bron")
    def source(self, allocation):
        return allocation.payment.get_source_display()


class ReminderOnInvoiceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Reminder
    fields = ["level", "sent_at", "sent_to", "outstanding", "by"]
    readonly_fields = fields
    extra = 0


class HoldFilter(admin.SimpleListFilter):
    """Invoices whose reminders finance holds (the state is invoicing's status filter)."""

    title = "herinneringen"
    parameter_name = "betaling"

    def lookups(self, request, model_admin):
        return [
            ("on_hold", "herinneringen aangehouden"),
            ("reminder_due", "herinnering moet vandaag weg"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "on_hold":
            today = amsterdam_date(timezone.now())
            return queryset.filter(
                Q(hold__isnull=False) | Q(order__invoicing__pays_after__gte=today)
            )
        if self.value() == "reminder_due":
            return queryset.filter(pk__in=[invoice.pk for invoice, _level in reminders.due()])
        return queryset


class PaymentsInvoiceMixin:
    """What payments add to invoicing's invoice admin: what is outstanding, the payments and
    reminders on the invoice, reminders and holds, and "mark paid" as a payment.
    `inlines`, `actions`, `list_select_related` and `list_filter` hold the additions only;
    werkplaats/admin.py joins them to invoicing's."""

    inlines = [PaymentOnInvoiceInline, ReminderOnInvoiceInline]
    actions = [
        # Money in and out is recorded as payments, so these actions are this app's.
        "mark_paid",
        "mark_refunded",
        "send_reminder",
        "hold_reminders",
        "transfer_payment",
    ]
    list_select_related = ["hold"]
    list_filter = [HoldFilter]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        first = dict(fieldsets[0][1])
        first["fields"] = [*first["fields"], ("outstanding", "hold_reason")]
        return [(fieldsets[0][0], first), *fieldsets[1:]]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "outstanding", "hold_reason"]

    @admin.display(description="openstaand")
    def outstanding(self, invoice):
        return money(invoice.outstanding)

    @admin.display(description="herinneringen aangehouden")
    def hold_reason(self, invoice):
        hold = getattr(invoice, "hold", None)
        if hold:
            return hold.reason
        until = reminders.pays_after(invoice)
        return f"betaalt na {formats.day(until)}" if until else "–"

    @admin.action(
        description="Exporteer voor de boekhouding (CSV, per factuur en btw-tarief)",
        permissions=["view"],
    )
    def export_bookkeeping(self, request, queryset):
        invoices = list(
            queryset.select_related("credited_invoice", "credit_note")
            .with_edition()
            .prefetch_related("lines")
            .order_by("series", "sequence")
        )
        record_access(
            AccessKind.EXPORT,
            "Facturen voor de boekhouding (CSV)",
            request=request,
            count=len(invoices),
        )
        rows = bookkeeping.invoice_rows(invoices)
        return csv_response("facturen-boekhouding.csv", bookkeeping.INVOICE_HEADER, rows)

    @admin.action(description="Markeer als betaald…", permissions=["mark_paid"])
    def mark_paid(self, request, queryset):
        def record(invoice, day):
            matching.record_payment(invoice, day, by=request.user.get_username())
            return f"{invoice.number} betaald op {formats.day(day)}"

        return self._dated_action(
            request,
            queryset,
            "mark_paid",
            "Facturen als betaald markeren",
            "Op welke datum is het geld binnengekomen? Niet voor de factuurdatum en niet in de "
            "toekomst. Dit registreert een betaling van het openstaande bedrag. Creditfacturen, "
            "gecrediteerde en al betaalde facturen worden overgeslagen.",
            record,
            "Betaald",
            ("paid_on", "Betaald op"),
        )

    @admin.action(description="Markeer terugbetaling als gedaan…", permissions=["mark_paid"])
    def mark_refunded(self, request, queryset):
        def record(invoice, day):
            matching.record_refund(invoice, day, by=request.user.get_username())
            return f"{invoice.number} terugbetaald op {formats.day(day)}"

        return self._dated_action(
            request,
            queryset,
            "mark_refunded",
            "Terugbetaling registreren",
            "Op welke datum is het geld van deze creditfactuur teruggestort? Alleen "
            "facturen en creditfacturen die 'terug te betalen' zijn tellen mee.",
            record,
            "Terugbetaald",
            ("refunded_on", "Terugbetaald op"),
        )

    @admin.action(description="Verstuur nu een betalingsherinnering…", permissions=["send_invoice"])
    def send_reminder(self, request, queryset):
        queryset = queryset.order_by("number")
        if "apply" not in request.POST:
            # Nothing is sent on the first click: to whom, who not and why, one message.
            invoices = queryset.select_related("credit_note", "hold").prefetch_related("reminders")
            return confirm_page(
                self,
                request,
                queryset,
                "send_reminder",
                "Betalingsherinnering versturen",
                mail=mail_preview(
                    "De betalingsherinnering",
                    invoices,
                    _reminder_recipient,
                    lambda invoice: emails.reminder_message(reminders.next_reminder(invoice)),
                    REFUSALS,
                ),
            )

        def step(invoice):
            reminder = reminders.send_next(invoice, by=request.user.get_username())
            return f"{reminder.get_level_display()} voor {invoice.number} naar {reminder.sent_to}"

        apply_to_each(
            self,
            request,
            queryset,
            step,
            "Verstuurd",
            refusals=REFUSALS,
            failed=lambda invoice: f"Herinnering voor {invoice.number} is niet verstuurd",
        )
        return None

    @admin.action(description="Herinneringen aanhouden…", permissions=["mark_paid"])
    def hold_reminders(self, request, queryset):
        form = HoldForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                "hold_reminders",
                "Herinneringen aanhouden",
                "Voor deze facturen gaat geen herinnering uit tot je de aanhouding verwijdert "
                "(onder Aangehouden facturen).",
                form,
            )
        reason = form.cleaned_data["reason"]

        def step(invoice):
            reminders.hold(invoice, reason, by=request.user.get_username())
            return f"{invoice.number} aangehouden"

        apply_to_each(
            self, request, queryset.order_by("number"), step, "Aangehouden", refusals=REFUSALS
        )
        return None

    @admin.action(
        description="Betaald bedrag verrekenen met nieuwe factuur…", permissions=["mark_paid"]
    )
    def transfer_payment(self, request, queryset):
        form = TransferForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return confirm_page(
                self,
                request,
                queryset,
                "transfer_payment",
                "Betaald bedrag verrekenen",
                "Na corrigeren en opnieuw factureren staat het geld op de gecrediteerde factuur "
                "('terug te betalen'). Verrekenen boekt het over naar de nieuwe factuur: een "
                "terugbetaling op de creditfactuur en een betaling op de nieuwe, van hetzelfde "
                "bedrag. Er gaat geen geld van de bank af.",
                form,
            )
        target = form.cleaned_data["target"]

        def step(invoice):
            amount = matching.transfer(invoice, target, by=request.user.get_username())
            return f"{money(amount)} van {invoice.number} verrekend met {target.number}"

        apply_to_each(
            self, request, queryset.order_by("number"), step, "Verrekend", refusals=REFUSALS
        )
        return None
