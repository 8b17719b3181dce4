"""One home for the debtor number: the organisation register. Every debtor the bookkeeping
export numbered becomes an organisation with that number (known by its KvK number when it
was numbered by it, else by its name), and the debtor table goes, with its permissions."""

from django.db import migrations


def to_organisations(apps, schema_editor):
    Debtor = apps.get_model("payments", "Debtor")
    Organisation = apps.get_model("organisations", "Organisation")
    for debtor in Debtor.objects.order_by("number"):
        kind, _, value = debtor.key.partition(":")
        kvk_number = value if kind == "kvk" else ""
        existing = Organisation.objects.filter(kvk_number=kvk_number).first() if kvk_number else None
        if existing is not None:
            existing.debtor_number = existing.debtor_number or debtor.number
            existing.save(update_fields=["debtor_number"])
            continue
        Organisation.objects.create(
            name=debtor.organisation,
            # The model's save() is not called in a migration: the key as it would make it.
            name_key=" ".join(debtor.organisation.casefold().split()),
            kvk_number=kvk_number,
            debtor_number=debtor.number,
        )


def to_debtors(apps, schema_editor):
    Debtor = apps.get_model("payments", "Debtor")
    Organisation = apps.get_model("organisations", "Organisation")
    for organisation in Organisation.objects.filter(debtor_number__isnull=False):
        key = (
            f"kvk:{organisation.kvk_number}"
            if organisation.kvk_number
            else f"naam:{organisation.name_key}"
        )
        Debtor.objects.get_or_create(
            key=key,
            defaults={"organisation": organisation.name, "number": organisation.debtor_number},
        )


def drop_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    # Its permissions go with it (they cascade), also from the groups that held them.
    ContentType.objects.filter(app_label="payments", model="debtor").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0005_invoice_amounts_from_payments"),
        ("organisations", "0002_finance_keeps_the_register"),
    ]

    operations = [
        migrations.RunPython(to_organisations, to_debtors),
        migrations.RunPython(drop_permissions, migrations.RunPython.noop),
        migrations.DeleteModel(name="Debtor"),
    ]
