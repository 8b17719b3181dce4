"""Every registration belongs to an order (invoicing 0009 made them); the invoice details,
the form key and the moments of consent now live on the order only."""

import django.db.models.deletion
from django.db import migrations, models

from registrations import guards


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0016_orders"),
        ("invoicing", "0009_orders_from_registrations"),
    ]

    operations = [
        migrations.RunPython(guards.drop, guards.create),
        migrations.AlterField(
            model_name="registration",
            name="order",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="positions", to="registrations.order", verbose_name="bestelling"),
        ),
        *[
            migrations.RemoveField(model_name="registration", name=name)
            for name in [
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
                "submission_key",
                "terms_accepted_at",
                "privacy_accepted_at",
            ]
        ],
        migrations.RunPython(guards.create, guards.drop),
    ]
