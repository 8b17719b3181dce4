"""The capacity, held by the database as well: see registrations/guards.py."""

from django.db import migrations

from registrations import guards


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0010_invoicing_moves_to_its_own_app"),
        ("programme", "0002_edition_price_by_finance"),
    ]

    operations = [migrations.RunPython(guards.create, guards.drop)]
