"""The pdf file column goes (its bytes are in InvoiceDocument since 0002), a credit note
records its refund, and the guards are made again for the table as it is now (guards.py).

Apart from 0002: PostgreSQL does not alter a table in the transaction that just wrote rows
referring to it ("pending trigger events").
"""

from django.db import migrations, models

from registrations.invoicing import guards

# INVOICE_FROZEN_FIELDS as of this migration.
FROZEN_REGISTRATION_FIELDS = [
    "edition",
    "first_name",
    "last_name",
    "invoice_organisation",
    "invoice_attention",
    "invoice_street",
    "invoice_postcode",
    "invoice_city",
    "invoice_country",
    "invoice_email",
    "po_number",
    "vat_id",
    "price_excl_vat",
    "vat_rate",
    "vat_exemption_text",
]


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS)


def drop_guards(apps, schema_editor):
    guards.drop(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0002_documents_in_the_database")]

    operations = [
        migrations.RemoveField(model_name="invoice", name="pdf"),
        migrations.AddField(
            model_name="invoice",
            name="refunded_on",
            field=models.DateField(blank=True, help_text="Alleen bij een creditfactuur van een betaalde factuur.", null=True, verbose_name="terugbetaald op"),
        ),
        migrations.RunPython(create_guards, drop_guards),
    ]
