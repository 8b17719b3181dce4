"""Each invoice records the layout of its PDF. Every invoice issued so far was made with
layout 1 (tables), and is restored with it; new invoices get layout 2. The guards go off
around the new column (on SQLite adding it rebuilds the table, which drops its triggers) and
come back with it frozen like the rest of the snapshot."""

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
LAYOUTS = [(1, "1: met tabellen (tot december 2026)"), (2, "2: alinea's en tabstops")]


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS, FROZEN_ORDER_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0012_job_pages_for_both_groups")]

    operations = [
        migrations.RunPython(guards.drop, create_guards),
        # The existing invoices: layout 1, the one their PDFs were made with.
        migrations.AddField(
            model_name="invoice",
            name="layout",
            field=models.PositiveSmallIntegerField(
                choices=LAYOUTS, default=1, editable=False, verbose_name="opmaak van de pdf"
            ),
        ),
        migrations.AlterField(
            model_name="invoice",
            name="layout",
            field=models.PositiveSmallIntegerField(
                choices=LAYOUTS, default=2, editable=False, verbose_name="opmaak van de pdf"
            ),
        ),
        migrations.RunPython(create_guards, guards.drop),
    ]
