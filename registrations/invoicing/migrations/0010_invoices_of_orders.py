"""An invoice belongs to an order and its lines to participants (0009 moved the data): the
invoice's own registration goes, and the guards are made again: a registration is frozen while
a standing invoice has a line for it, an order's invoice details while one has a line for any
of its participants."""

from django.db import migrations

from registrations.invoicing import guards

# INVOICE_FROZEN_FIELDS and ORDER_FROZEN_FIELDS as of this migration.
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
    dependencies = [
        ("invoicing", "0009_orders_from_registrations"),
        ("registrations", "0017_orders_required"),
    ]

    operations = [
        migrations.RemoveField(model_name="invoice", name="registration"),
        migrations.RunPython(create_guards, guards.drop),
    ]
