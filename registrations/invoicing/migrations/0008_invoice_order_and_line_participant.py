import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0007_guards_off_for_orders"),
        ("registrations", "0016_orders"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoice",
            name="order",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="invoices", to="registrations.order", verbose_name="bestelling"),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="registration",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="invoice_lines", to="registrations.registration", verbose_name="deelnemer"),
        ),
    ]
