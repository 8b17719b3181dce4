"""The invoice models now live in the invoicing app (registrations/invoicing/): this removes
them from registrations' state only. Their tables, rows and triggers stay as they are."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0009_agreed_price_required"),
        ("invoicing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="invoice", name="credited_invoice"),
                migrations.RemoveField(model_name="invoice", name="registration"),
                migrations.RemoveField(model_name="invoiceline", name="invoice"),
                migrations.DeleteModel(name="InvoiceCounter"),
                migrations.DeleteModel(name="InvoiceIssuer"),
                migrations.DeleteModel(name="Invoice"),
                migrations.DeleteModel(name="InvoiceLine"),
            ],
        ),
    ]
