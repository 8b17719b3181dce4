"""Finance's hand-set dates become payments, so an invoice's payment state has one home.

Every invoice marked paid gets a manual payment of its total on its paid_on date; every credit
note marked refunded a manual refund of its amount on its refunded_on date. The invoices keep
those dates (settle() derives the same ones from these payments). Financiën gets the new
permissions: reading statements in, handling the queue, holds and reminder settings.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE = [
    ("bankstatement", ["view", "add"]),
    ("payment", ["view", "change"]),
    ("allocation", ["view"]),
    ("invoicehold", ["view", "add", "change", "delete"]),
    ("reminder", ["view"]),
    ("remindersettings", ["view", "change"]),
]
MIGRATED = "Overgenomen van de handmatige markering"


def payments_from_dates(apps, schema_editor):
    Invoice = apps.get_model("invoicing", "Invoice")
    Payment = apps.get_model("payments", "Payment")
    Allocation = apps.get_model("payments", "Allocation")
    marked = Invoice.objects.filter(paid_on__isnull=False, kind="invoice") | Invoice.objects.filter(
        refunded_on__isnull=False, kind="credit"
    )
    for invoice in marked.order_by("pk").iterator():
        day = invoice.paid_on if invoice.kind == "invoice" else invoice.refunded_on
        if not invoice.total_incl_vat:
            continue
        payment = Payment.objects.create(
            source="manual",
            amount=invoice.total_incl_vat,
            booking_date=day,
            counterparty_name=invoice.customer_organisation[:200],
            remittance=f"{MIGRATED} ({invoice.number})",
            state="matched",
        )
        Allocation.objects.create(payment=payment, invoice=invoice, amount=invoice.total_incl_vat)


def _permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(
            content_type__app_label="payments", content_type__model=model, codename=f"{a}_{model}"
        )
        for model, actions in FINANCE
        for a in actions
    ]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    finance, _ = Group.objects.get_or_create(name="Financiën")
    finance.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    finance = Group.objects.filter(name="Financiën").first()
    if finance:
        finance.permissions.remove(*_permissions(apps))


def remove_migrated(apps, schema_editor):
    Payment = apps.get_model("payments", "Payment")
    Allocation = apps.get_model("payments", "Allocation")
    migrated = Payment.objects.filter(source="manual", remittance__startswith=MIGRATED)
    Allocation.objects.filter(payment__in=migrated).delete()
    migrated.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0001_payments_and_reminders"),
        ("invoicing", "0012_job_pages_for_both_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(payments_from_dates, remove_migrated),
        migrations.RunPython(grant, revoke),
    ]
