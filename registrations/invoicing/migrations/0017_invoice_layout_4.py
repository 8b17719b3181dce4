"""Layout 4 of the invoice PDF, for new invoices; those issued keep the layout they record. Only
the field's choices and default change, but on SQLite altering it rebuilds the table, which
drops its triggers: the guards go off around it and come back unchanged."""

from django.db import migrations, models

from registrations.invoicing import guards

# INVOICE_FROZEN_FIELDS and ORDER_FROZEN_FIELDS as of this migration (unchanged since 0010, as in 0015).
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
LAYOUTS = [
    (1, "1: met tabellen (tot december 2026)"),
    (2, "2: alinea's en tabstops"),
    (3, "3: alinea's, lichter te maken (december 2026)"),
    (4, "4: als 3, sneller te maken (vanaf december 2026)"),
]


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS, FROZEN_ORDER_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0016_merge_layout_3_and_order_invoicing")]

    operations = [
        migrations.RunPython(guards.drop, create_guards),
        migrations.AlterField(
            model_name="invoice",
            name="layout",
            field=models.PositiveSmallIntegerField(
                choices=LAYOUTS, default=4, editable=False, verbose_name="opmaak van de pdf"
            ),
        ),
        migrations.RunPython(create_guards, guards.drop),
    ]
