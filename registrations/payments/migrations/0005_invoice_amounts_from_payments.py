"""Existing invoices get the amounts their payments add up to (invoicing 0014 added the
columns): an invoice and its credit note both record what came in for the invoice and what
went back through the credit note, as settle() writes them from now on. The dates paid_on and
refunded_on were already settle()'s and stay as they are."""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations
from django.db.models import Sum

ZERO = Decimal("0.00")


def invoice_amounts(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    Allocation = apps.get_model("payments", "Allocation")
    sums = dict(
        Allocation.objects.values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    if not sums:
        return
    credit_of = dict(
        Invoice.objects.filter(kind="credit").values_list("credited_invoice_id", "pk")
    )
    updates = defaultdict(list)
    for pk, kind, credited_id in Invoice.objects.values_list("pk", "kind", "credited_invoice_id"):
        original = pk if kind == "invoice" else credited_id
        paid = sums.get(original, ZERO)
        refunded = -sums.get(credit_of.get(original), ZERO)
        if paid or refunded:
            updates[paid, refunded].append(pk)
    for (paid, refunded), pks in updates.items():
        for start in range(0, len(pks), 500):
            Invoice.objects.filter(pk__in=pks[start : start + 500]).update(
                amount_paid=paid, amount_refunded=refunded
            )


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0004_payment_transfers"),
        ("invoicing", "0014_invoice_amounts"),
    ]

    operations = [migrations.RunPython(invoice_amounts, migrations.RunPython.noop)]
