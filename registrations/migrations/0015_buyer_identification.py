"""The buyer's identification for e-invoices: KvK number, OIN and Peppol ID.

SQLite rebuilds registrations_registration for these columns, which drops its triggers: the
capacity guards are dropped and made again around it. Invoicing's guards on this table are
taken off by invoicing 0005 (before) and made again by invoicing 0006 (after).
"""

import registrations.models
from django.db import migrations, models

from registrations import guards


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0014_staff_see_the_retention_record"),
        ("invoicing", "0005_guards_off_for_buyer_identification"),
    ]

    operations = [
        migrations.RunPython(guards.drop, guards.create),
        migrations.AddField(
            model_name="registration",
            name="kvk_number",
            field=models.CharField(blank=True, max_length=8, validators=[registrations.models.validate_kvk_number], verbose_name="KvK-nummer"),
        ),
        migrations.AddField(
            model_name="registration",
            name="oin",
            field=models.CharField(blank=True, help_text="Organisatie-identificatienummer van een overheidsorganisatie (20 cijfers).", max_length=20, validators=[registrations.models.validate_oin], verbose_name="OIN"),
        ),
        migrations.AddField(
            model_name="registration",
            name="peppol_id",
            field=models.CharField(blank=True, max_length=60, validators=[registrations.models.validate_peppol_id], verbose_name="Peppol-ID"),
        ),
        migrations.RunPython(guards.create, guards.drop),
    ]
