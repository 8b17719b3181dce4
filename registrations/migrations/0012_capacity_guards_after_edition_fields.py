"""The capacity guards again after programme 0003 changed programme_edition (on SQLite that
is a rebuild, which drops a table's triggers; registrations/guards.py now makes none there)."""

from django.db import migrations

from registrations import guards


def recreate(apps, schema_editor):
    guards.drop(apps, schema_editor)
    guards.create(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0011_capacity_guards"),
        ("programme", "0003_event_days_and_retention"),
    ]

    operations = [migrations.RunPython(recreate, migrations.RunPython.noop)]
