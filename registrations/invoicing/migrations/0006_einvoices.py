"""E-invoices: the invoice snapshot holds the buyer's identification (KvK number, OIN, Peppol
ID), the SHA-256 of the stored e-invoice (set once, like the PDF's), and InvoiceDocument gets
the kind "ubl". The guards are made again with the registration's new invoice details frozen.
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
    "kvk_number",
    "oin",
    "peppol_id",
    "price_excl_vat",
    "vat_rate",
    "vat_exemption_text",
]


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS)


def drop_guards(apps, schema_editor):
    guards.drop(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0005_guards_off_for_buyer_identification"),
        ("registrations", "0015_buyer_identification"),
    ]

    operations = [
        migrations.RunPython(drop_guards, migrations.RunPython.noop),
        migrations.AddField(
            model_name="invoice",
            name="customer_kvk_number",
            field=models.CharField(blank=True, max_length=8, verbose_name="KvK-nummer klant"),
        ),
        migrations.AddField(
            model_name="invoice",
            name="customer_oin",
            field=models.CharField(blank=True, max_length=20, verbose_name="OIN klant"),
        ),
        migrations.AddField(
            model_name="invoice",
            name="customer_peppol_id",
            field=models.CharField(blank=True, max_length=60, verbose_name="Peppol-ID klant"),
        ),
        migrations.AddField(
            model_name="invoice",
            name="ubl_sha256",
            field=models.CharField(blank=True, max_length=64, verbose_name="SHA-256 van de e-factuur"),
        ),
        migrations.AlterField(
            model_name="invoicedocument",
            name="kind",
            field=models.CharField(choices=[("pdf", "pdf"), ("ubl", "e-factuur")], max_length=10, verbose_name="soort"),
        ),
        migrations.RunPython(create_guards, drop_guards),
    ]
