"""Orders: the guards come off while sign-up's tables gain the order (SQLite rebuilds them,
which would drop the triggers anyway) and are made again by 0010 for invoices of orders."""

from importlib import import_module

from django.db import migrations

from registrations.invoicing import guards


def create_previous_guards(apps, schema_editor):
    previous = import_module("registrations.invoicing.migrations.0006_einvoices")
    guards.create(apps, schema_editor, previous.FROZEN_REGISTRATION_FIELDS)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0006_einvoices")]

    operations = [migrations.RunPython(guards.drop, create_previous_guards)]
