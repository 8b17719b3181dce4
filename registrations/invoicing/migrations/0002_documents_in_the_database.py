"""Invoice documents move from files under MEDIA_ROOT into the database, and a credit note of
a paid invoice records when its money went back.

Stored in the issuing transaction, a document exists exactly when its invoice does, every app
server can serve it, and the database backup holds it. Each stored PDF is copied in as it is;
a file that is already missing is left to the check (`manage.py check_invoice_documents`),
which restores it from the invoice's snapshot when the SHA-256 recorded at issue matches.
The files themselves stay where they are: remove them once the check reports nothing.

The triggers are dropped and made again around the table changes: SQLite rebuilds the table
(and cannot drop a column a trigger names), and the new guard also holds the registration's
invoiced fields (see guards.py).
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

from registrations.invoicing import guards

def pdfs_into_database(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    InvoiceDocument = apps.get_model("invoicing", "InvoiceDocument")
    for invoice in Invoice.objects.exclude(pdf="").iterator():
        try:
            with invoice.pdf.open("rb") as handle:
                content = handle.read()
        except OSError:
            continue
        InvoiceDocument.objects.create(invoice=invoice, kind="pdf", content=content)


def drop_guards(apps, schema_editor):
    guards.drop(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0001_initial"),
        ("registrations", "0010_invoicing_moves_to_its_own_app"),
    ]

    operations = [
        migrations.RunPython(drop_guards, migrations.RunPython.noop),
        migrations.CreateModel(
            name="InvoiceDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("pdf", "pdf")], max_length=10, verbose_name="soort")),
                ("content", models.BinaryField(verbose_name="inhoud")),
                ("stored_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="opgeslagen op")),
                ("invoice", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="documents", to="invoicing.invoice", verbose_name="factuur")),
            ],
            options={"verbose_name": "factuurdocument", "verbose_name_plural": "factuurdocumenten"},
        ),
        migrations.AddConstraint(
            model_name="invoicedocument",
            constraint=models.UniqueConstraint(fields=("invoice", "kind"), name="one_document_per_kind"),
        ),
        migrations.RunPython(pdfs_into_database, migrations.RunPython.noop),
    ]
