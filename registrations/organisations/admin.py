"""Finance's register of organisations. Sign-up adds the orders of an organisation and
invoicing its invoices, each as a mixin (werkplaats/admin.py joins them)."""

from django.contrib import admin


class OrganisationAdmin(admin.ModelAdmin):
    """One organisation, known once: what finance corrects here goes on every later invoice
    of its orders. Nobody deletes one: its debtor number is in the bookkeeping."""

    list_display = [
        "name",
        "kvk_number",
        "oin",
        "invoice_city",
        "requires_po",
        "debtor_number",
    ]
    list_filter = ["requires_po", "invoice_country"]
    search_fields = ["name", "kvk_number", "oin", "=debtor_number"]
    inlines = []
    fieldsets = [
        (None, {"fields": ["name", ("kvk_number", "oin"), ("vat_id", "peppol_id")]}),
        (
            "Factuuradres",
            {
                "fields": [
                    "invoice_attention",
                    "invoice_street",
                    ("invoice_postcode", "invoice_city"),
                    "invoice_country",
                    "invoice_email",
                ]
            },
        ),
        ("Facturen", {"fields": ["requires_po", "payment_term_days", "debtor_number"]}),
    ]

    def has_delete_permission(self, request, obj=None):
        return False
