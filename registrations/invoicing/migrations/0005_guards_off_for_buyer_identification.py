"""The guards go off while registrations 0012 adds the buyer's identification to
registrations_registration, and come back in 0006 with the new columns frozen.

On SQLite that migration rebuilds the table, which drops its triggers; sign-up's migrations
do not import invoicing, so invoicing takes its own guards off here, before the rebuild.
"""

from django.db import migrations

from registrations.invoicing import guards

# INVOICE_FROZEN_FIELDS as of the previous migration (0003), for going back.
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


def drop_guards(apps, schema_editor):
    guards.drop(apps, schema_editor)


def create_guards(apps, schema_editor):
    guards.create(apps, schema_editor, FROZEN_REGISTRATION_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0004_roles_follow_responsibility")]

    operations = [migrations.RunPython(drop_guards, create_guards)]
