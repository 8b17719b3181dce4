"""The transmissions of e-invoices over Peppol, for finance: each with its state in its own
word, its attempts and the rules of a refusal; the worklist filter; and the choice to send
an invoice by e-mail instead, or over Peppol again. Registered in werkplaats/admin.py."""

from django.contrib import admin, messages

from registrations.invoicing.models import InvoiceRefused
from werkplaats import formats
from werkplaats.refusals import refusal_text

from . import tasks, transmitting
from .models import VERDICTS, Attempt, TransitionRefused


class WorklistFilter(admin.SimpleListFilter):
    title = "werklijst"
    parameter_name = "werklijst"

    def lookups(self, request, model_admin):
        return [
            ("aandacht", "vraagt aandacht"),
            ("onderweg", "langer dan 24 uur onderweg"),
            ("geweigerd", "geweigerd of afgewezen"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "aandacht":
            return queryset.worklist()
        if self.value() == "onderweg":
            return queryset.stuck()
        if self.value() == "geweigerd":
            return queryset.filter(status__in=VERDICTS)
        return queryset


class AttemptInline(admin.TabularInline):
    model = Attempt
    fields = ["number", "key", "started", "outcome", "http_status", "error"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="begonnen")
    def started(self, attempt):
        return formats.moment(attempt.started_at)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class TransmissionAdmin(admin.ModelAdmin):
    list_display = [
        "invoice",
        "receiver",
        "channel",
        "status",
        "attempt_count",
        "since",
        "rule_list",
    ]
    list_filter = [WorklistFilter, "status", "channel"]
    list_select_related = ["invoice"]
    search_fields = ["invoice__number", "receiver", "provider_message_id"]
    readonly_fields = [
        "invoice",
        "channel",
        "channel_set_by",
        "receiver",
        "status",
        "idempotency_key",
        "provider_message_id",
        "ubl_sha256",
        "validated_at",
        "attempt_count",
        "next_attempt_at",
        "last_error",
        "rules",
        "queued_at",
        "handed_over_at",
        "delivered_at",
        "decided_at",
    ]
    fields = readonly_fields
    inlines = [AttemptInline]
    actions = ["send_by_email", "send_by_peppol"]

    @admin.display(description="sinds", ordering="queued_at")
    def since(self, transmission):
        return formats.moment(transmission.queued_at)

    @admin.display(description="regels")
    def rule_list(self, transmission):
        return transmission.rules_text or "—"

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Per e-mail versturen (als origineel)", permissions=["change"])
    def send_by_email(self, request, queryset):
        done = []
        for transmission in queryset.select_related("invoice"):
            try:
                transmitting.choose_email(transmission, request.user)
            except (InvoiceRefused, TransitionRefused) as refusal:
                self.message_user(request, refusal_text(refusal), messages.ERROR)
            else:
                done.append(transmission.invoice.number)
        if done:
            self.message_user(request, f"Per e-mail verstuurd: {', '.join(done)}.")

    @admin.action(description="Opnieuw via Peppol versturen", permissions=["change"])
    def send_by_peppol(self, request, queryset):
        chosen, done = [], []
        for transmission in queryset.select_related("invoice"):
            try:
                queued = transmitting.choose_peppol(transmission.invoice, request.user)
            except (InvoiceRefused, TransitionRefused) as refusal:
                self.message_user(request, refusal_text(refusal), messages.ERROR)
            else:
                chosen.append(queued)
                done.append(transmission.invoice.number)
        tasks.queue_attempts(chosen)
        if done:
            self.message_user(request, f"In de wachtrij voor Peppol: {', '.join(done)}.")


class TransmissionInvoiceMixin:
    """What transmission adds to the invoices list (joined in werkplaats/admin.py): finance
    sends an invoice over Peppol, e.g. to a company that receives on Peppol by its KvK
    number, which the organisation's details alone do not tell."""

    actions = ["send_over_peppol"]

    @admin.action(description="Via Peppol versturen", permissions=["send_invoice"])
    def send_over_peppol(self, request, queryset):
        chosen, done = [], []
        for invoice in queryset.order_by("number"):
            try:
                queued = transmitting.choose_peppol(invoice, request.user)
            except (InvoiceRefused, TransitionRefused) as refusal:
                self.message_user(request, refusal_text(refusal), messages.ERROR)
            else:
                chosen.append(queued)
                done.append(invoice.number)
        tasks.queue_attempts(chosen)
        if done:
            self.message_user(request, f"In de wachtrij voor Peppol: {', '.join(done)}.")
