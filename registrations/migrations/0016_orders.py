"""Orders: one sign-up holds one or more participants, and the invoice details once.

The registration gains its order (filled by invoicing 0009 for existing data, required from
0017); the details only whoever signs up gives (phone, job title) and the statistics (sector,
role) become optional, since colleagues are signed up with name, e-mail and choices only.
"""

import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
from django.db import migrations, models

import registrations.models
from registrations import guards


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0004_edition_max_participants_per_order"),
        ("registrations", "0015_buyer_identification"),
        ("invoicing", "0007_guards_off_for_orders"),
    ]

    operations = [
        migrations.RunPython(guards.drop, guards.create),
        migrations.CreateModel(
            name="Order",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(default=registrations.models.new_token, editable=False, max_length=64, unique=True)),
                ("first_name", models.CharField(max_length=100, verbose_name="voornaam")),
                ("last_name", models.CharField(max_length=100, verbose_name="achternaam")),
                ("email", models.EmailField(max_length=254, verbose_name="e-mailadres")),
                ("phone", models.CharField(blank=True, max_length=30, verbose_name="telefoonnummer")),
                ("organisation", models.CharField(max_length=200, verbose_name="organisatie")),
                ("invoice_organisation", models.CharField(max_length=200, verbose_name="organisatie (factuur)")),
                ("invoice_attention", models.CharField(blank=True, max_length=200, verbose_name="ter attentie van")),
                ("invoice_street", models.CharField(help_text="Een postbus mag ook, bijvoorbeeld Postbus 16200.", max_length=200, verbose_name="straat en huisnummer")),
                ("invoice_postcode", models.CharField(max_length=20, verbose_name="postcode")),
                ("invoice_city", models.CharField(max_length=100, verbose_name="plaats")),
                ("invoice_country", django_countries.fields.CountryField(default="NL", max_length=2, verbose_name="land")),
                ("invoice_email", models.EmailField(max_length=254, verbose_name="e-mailadres voor de factuur")),
                ("po_number", models.CharField(blank=True, help_text="Staat op de factuur; veel gemeenten hebben dit nodig.", max_length=100, verbose_name="inkoopordernummer of kenmerk")),
                ("vat_id", models.CharField(blank=True, max_length=30, verbose_name="btw-nummer")),
                ("kvk_number", models.CharField(blank=True, max_length=8, validators=[registrations.models.validate_kvk_number], verbose_name="KvK-nummer")),
                ("oin", models.CharField(blank=True, help_text="Organisatie-identificatienummer van een overheidsorganisatie (20 cijfers).", max_length=20, validators=[registrations.models.validate_oin], verbose_name="OIN")),
                ("peppol_id", models.CharField(blank=True, max_length=60, validators=[registrations.models.validate_peppol_id], verbose_name="Peppol-ID")),
                ("submission_key", models.CharField(blank=True, default="", editable=False, max_length=64, verbose_name="formuliersleutel")),
                ("terms_accepted_at", models.DateTimeField(blank=True, null=True, verbose_name="akkoord voorwaarden op")),
                ("privacy_accepted_at", models.DateTimeField(blank=True, null=True, verbose_name="privacyverklaring getoond op")),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now, verbose_name="ingeschreven op")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="gewijzigd")),
                ("anonymised_at", models.DateTimeField(blank=True, null=True, verbose_name="geanonimiseerd op")),
                ("edition", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="orders", to="programme.edition", verbose_name="editie")),
            ],
            options={
                "verbose_name": "bestelling",
                "verbose_name_plural": "bestellingen",
                "ordering": ["-created_at"],
            },
        ),
        migrations.AddField(
            model_name="registration",
            name="order",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="positions", to="registrations.order", verbose_name="bestelling"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="phone",
            field=models.CharField(blank=True, max_length=30, verbose_name="telefoonnummer"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="job_title",
            field=models.CharField(blank=True, max_length=200, verbose_name="functie"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="sector",
            field=models.CharField(blank=True, choices=[("gemeente", "Gemeente"), ("welzijn", "Welzijnsinstelling"), ("onderwijs", "Onderwijs"), ("zorg", "Zorgverlening"), ("sociaal", "Sociaal en gemeenschapswerk"), ("impact", "Impactondernemer"), ("initiatief", "Maatschappelijk initiatief"), ("corporatie", "Woningcorporatie"), ("politie", "Politie"), ("anders", "Anders")], max_length=20, verbose_name="sector"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="role",
            field=models.CharField(blank=True, choices=[("leider", "Programma- of projectleider"), ("manager", "Manager"), ("onderzoeker", "Onderzoeker"), ("professional", "Uitvoerend professional"), ("adviseur", "Adviseur"), ("anders", "Anders")], max_length=20, verbose_name="rol"),
        ),
        migrations.RunPython(guards.create, guards.drop),
    ]
