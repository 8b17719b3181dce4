"""The price agreed at sign-up, the waiting list as a queue, status only through transitions,
and a shared rate limit.

Existing registrations get their edition's price as it is now: the best record there is of
what they were told. Waiting registrations queue in order of sign-up.
"""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery


def agreed_price_and_queue(apps, schema_editor):
    Registration = apps.get_model("registrations", "Registration")
    Edition = apps.get_model("programme", "Edition")
    editions = Edition.objects.filter(pk=OuterRef("edition_id"))
    Registration.objects.update(
        price_excl_vat=Subquery(editions.values("price_excl_vat")[:1]),
        vat_rate=Subquery(editions.values("vat_rate")[:1]),
        vat_exemption_text=Subquery(editions.values("vat_exemption_text")[:1]),
    )
    Registration.objects.filter(status="waiting").update(waiting_since=F("created_at"))
    # Before this migration the change form could leave these out of step.
    Registration.objects.filter(status="cancelled", cancelled_at__isnull=True).update(
        cancelled_at=F("updated_at")
    )
    Registration.objects.exclude(status="cancelled").update(cancelled_at=None)


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0002_edition_price_by_finance"),
        ("registrations", "0007_registration_edition_status_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateLimit",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(max_length=200, unique=True, verbose_name="sleutel")),
                ("window_ends", models.DateTimeField(db_index=True, verbose_name="venster eindigt")),
                ("hits", models.PositiveIntegerField(default=0, verbose_name="aantal")),
            ],
            options={"verbose_name": "snelheidslimiet", "verbose_name_plural": "snelheidslimieten"},
        ),
        migrations.AlterModelOptions(
            name="registration",
            options={"ordering": ["-created_at"], "permissions": [("change_billing", "Mag factuurgegevens en de afgesproken prijs wijzigen")], "verbose_name": "inschrijving", "verbose_name_plural": "inschrijvingen"},
        ),
        migrations.AddField(
            model_name="registration",
            name="price_excl_vat",
            field=models.DecimalField(decimal_places=2, max_digits=9, null=True, verbose_name="afgesproken prijs excl. btw"),
        ),
        migrations.AddField(
            model_name="registration",
            name="vat_exemption_text",
            field=models.CharField(blank=True, help_text="Ingevuld: de factuur rekent 0% btw met deze tekst.", max_length=200, verbose_name="afgesproken btw-vrijstelling"),
        ),
        migrations.AddField(
            model_name="registration",
            name="vat_rate",
            field=models.DecimalField(decimal_places=2, max_digits=5, null=True, verbose_name="afgesproken btw-tarief (%)"),
        ),
        migrations.AddField(
            model_name="registration",
            name="waiting_since",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="op de wachtlijst sinds"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="cancelled_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="geannuleerd op"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="status",
            field=models.CharField(choices=[("confirmed", "bevestigd"), ("waiting", "wachtlijst"), ("cancelled", "geannuleerd")], default="confirmed", editable=False, max_length=20, verbose_name="status"),
        ),
        migrations.RunPython(agreed_price_and_queue, migrations.RunPython.noop),
    ]
