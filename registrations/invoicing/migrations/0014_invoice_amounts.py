"""An invoice records what was paid on it and refunded, as amounts: its one state (paid in
part, in full, too much, refund due, ...) follows from them. Both columns are mutable, like
paid_on; the guards go off around them (on SQLite adding a column rebuilds the table, which
drops its triggers) and come back allowing them. The payments app fills them for existing
invoices from their payments (payments 0005)."""

from decimal import Decimal

from django.db import migrations, models

from registrations.invoicing import guards

# INVOICE_FROZEN_FIELDS and ORDER_FROZEN_FIELDS as of this migration (unchanged since 0010).
FROZEN_REGISTRATION_FIELDS = [
    "edition",
    "order",
    "first_name",
    "last_name",
    "price_excl_vat",
    "vat_rate",
    "vat_exemption_text",
]
FROZEN_ORDER_FIELDS = [
    "invoice_organisation",
    "invoice_attention",
    "invoice_street",
    "invoice_postcode",
    "invoice_city",
    "invoice_country",
    "invoice_email",
    "po_number",
    "vat_id",
    "kvk_number",
    "oin",
    "peppol_id",
]


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS, FROZEN_ORDER_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0013_invoice_layout")]

    operations = [
        migrations.RunPython(guards.drop, create_guards),
        migrations.AddField(
            model_name="invoice",
            name="amount_paid",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                editable=False,
                max_digits=12,
                verbose_name="betaald",
            ),
        ),
        migrations.AddField(
            model_name="invoice",
            name="amount_refunded",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("0.00"),
                editable=False,
                max_digits=12,
                verbose_name="terugbetaald",
            ),
        ),
        migrations.RunPython(create_guards, guards.drop),
    ]
