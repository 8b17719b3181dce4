"""Invoicing becomes its own app: its models move here from `registrations`.

Only Django's idea of the models moves (state operations): the tables keep their names, rows
and triggers. The content types follow, so the permissions the groups hold, and the admin
history, move along with them.
"""

import django.core.validators
import django.db.models.deletion
import django_countries.fields
import registrations.invoicing.models
import registrations.models
from django.db import migrations, models


MODELS = ["invoice", "invoiceline", "invoiceissuer", "invoicecounter"]


def _move(apps, source, target):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label=source, model__in=MODELS).update(app_label=target)


def move_content_types(apps, schema_editor):
    _move(apps, "registrations", "invoicing")


def move_content_types_back(apps, schema_editor):
    _move(apps, "invoicing", "registrations")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('registrations', '0009_agreed_price_required'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='InvoiceCounter',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('series', models.CharField(max_length=40, unique=True, verbose_name='reeks')),
                    ('last_number', models.PositiveIntegerField(default=0, verbose_name='laatste nummer')),
                ],
                options={
                    'verbose_name': 'factuurteller',
                    'verbose_name_plural': 'factuurtellers',
                    'db_table': 'registrations_invoicecounter',
                },
            ),
            migrations.CreateModel(
                name='InvoiceIssuer',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('name', models.CharField(default='Platform31', max_length=200, verbose_name='statutaire naam')),
                    ('street', models.CharField(blank=True, max_length=200, verbose_name='straat en huisnummer')),
                    ('postcode', models.CharField(blank=True, max_length=20, verbose_name='postcode')),
                    ('city', models.CharField(blank=True, max_length=100, verbose_name='plaats')),
                    ('country', django_countries.fields.CountryField(default='NL', max_length=2, verbose_name='land')),
                    ('kvk_number', models.CharField(blank=True, max_length=20, validators=[registrations.models.validate_kvk_number], verbose_name='KvK-nummer')),
                    ('vat_id', models.CharField(blank=True, max_length=20, validators=[registrations.invoicing.models._validate_vat_id], verbose_name='btw-id')),
                    ('iban', models.CharField(blank=True, max_length=34, validators=[registrations.invoicing.models._validate_iban], verbose_name='IBAN')),
                    ('bic', models.CharField(blank=True, max_length=11, verbose_name='BIC')),
                    ('email', models.EmailField(blank=True, max_length=254, verbose_name='e-mailadres voor vragen over facturen')),
                    ('payment_term_days', models.PositiveSmallIntegerField(default=30, validators=[django.core.validators.MinValueValidator(1)], verbose_name='betalingstermijn (dagen)')),
                    ('footer_text', models.TextField(blank=True, help_text='Onderaan elke factuur, bijvoorbeeld de algemene voorwaarden.', verbose_name='voettekst')),
                    ('number_prefix', models.CharField(default='{year}-', help_text="{year} wordt het jaar van de factuurdatum: '{year}-' geeft 2022-0001.", max_length=20, validators=[registrations.invoicing.models._validate_number_prefix], verbose_name='voorvoegsel factuurnummer')),
                    ('credit_notes_own_series', models.BooleanField(default=False, help_text='Uit: creditfacturen krijgen het volgende nummer uit de factuurreeks.', verbose_name='creditfacturen in een eigen reeks')),
                    ('credit_note_prefix', models.CharField(default='{year}-C', help_text="Alleen bij een eigen reeks: '{year}-C' geeft 2022-C0001.", max_length=20, validators=[registrations.invoicing.models._validate_number_prefix], verbose_name='voorvoegsel creditfactuur')),
                    ('is_example', models.BooleanField(default=False, help_text="Aan voor demogegevens: facturen krijgen dan 'VOORBEELD' als watermerk.", verbose_name='voorbeeldgegevens')),
                    ('updated_at', models.DateTimeField(auto_now=True, verbose_name='gewijzigd')),
                ],
                options={
                    'verbose_name': 'factuurafzender',
                    'verbose_name_plural': 'factuurafzender',
                    'db_table': 'registrations_invoiceissuer',
                },
            ),
            migrations.CreateModel(
                name='Invoice',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('number', models.CharField(max_length=40, unique=True, verbose_name='factuurnummer')),
                    ('series', models.CharField(editable=False, max_length=40, verbose_name='reeks')),
                    ('sequence', models.PositiveIntegerField(editable=False, verbose_name='volgnummer in reeks')),
                    ('kind', models.CharField(choices=[('invoice', 'factuur'), ('credit', 'creditfactuur')], default='invoice', max_length=10, verbose_name='soort')),
                    ('invoice_date', models.DateField(verbose_name='factuurdatum')),
                    ('due_date', models.DateField(verbose_name='vervaldatum')),
                    ('supply_start', models.DateField(verbose_name='levering van')),
                    ('supply_end', models.DateField(verbose_name='levering tot en met')),
                    ('issued_at', models.DateTimeField(verbose_name='aangemaakt op')),
                    ('issued_by', models.CharField(blank=True, max_length=150, verbose_name='aangemaakt door')),
                    ('issuer_name', models.CharField(max_length=200, verbose_name='afzender')),
                    ('issuer_street', models.CharField(max_length=200, verbose_name='straat afzender')),
                    ('issuer_postcode', models.CharField(max_length=20, verbose_name='postcode afzender')),
                    ('issuer_city', models.CharField(max_length=100, verbose_name='plaats afzender')),
                    ('issuer_country', models.CharField(max_length=100, verbose_name='land afzender')),
                    ('issuer_kvk_number', models.CharField(max_length=20, verbose_name='KvK-nummer afzender')),
                    ('issuer_vat_id', models.CharField(max_length=20, verbose_name='btw-id afzender')),
                    ('issuer_iban', models.CharField(max_length=34, verbose_name='IBAN')),
                    ('issuer_bic', models.CharField(blank=True, max_length=11, verbose_name='BIC')),
                    ('issuer_email', models.EmailField(blank=True, max_length=254, verbose_name='e-mail afzender')),
                    ('issuer_is_example', models.BooleanField(default=False, verbose_name='voorbeeldgegevens')),
                    ('footer_text', models.TextField(blank=True, verbose_name='voettekst')),
                    ('customer_organisation', models.CharField(max_length=200, verbose_name='klant')),
                    ('customer_attention', models.CharField(blank=True, max_length=200, verbose_name='ter attentie van')),
                    ('customer_street', models.CharField(max_length=200, verbose_name='straat en huisnummer')),
                    ('customer_postcode', models.CharField(max_length=20, verbose_name='postcode')),
                    ('customer_city', models.CharField(max_length=100, verbose_name='plaats')),
                    ('customer_country', models.CharField(max_length=2, verbose_name='landcode')),
                    ('customer_country_name', models.CharField(max_length=100, verbose_name='land')),
                    ('customer_email', models.EmailField(max_length=254, verbose_name='e-mailadres voor de factuur')),
                    ('customer_vat_id', models.CharField(blank=True, max_length=30, verbose_name='btw-nummer klant')),
                    ('po_number', models.CharField(blank=True, max_length=100, verbose_name='inkoopordernummer of kenmerk')),
                    ('payment_reference', models.CharField(max_length=40, verbose_name='betalingskenmerk')),
                    ('total_excl_vat', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='totaal excl. btw')),
                    ('total_vat', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='btw')),
                    ('total_incl_vat', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='totaal incl. btw')),
                    ('vat_exemption_text', models.CharField(blank=True, max_length=200, verbose_name='btw-vrijstelling')),
                    ('pdf', models.FileField(blank=True, max_length=200, upload_to='invoices/', verbose_name='pdf')),
                    ('pdf_sha256', models.CharField(blank=True, max_length=64, verbose_name='SHA-256 van de pdf')),
                    ('paid_on', models.DateField(blank=True, null=True, verbose_name='betaald op')),
                    ('emailed_at', models.DateTimeField(blank=True, null=True, verbose_name='gemaild op')),
                    ('credited_invoice', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='credit_note', to='invoicing.invoice', verbose_name='crediteert factuur')),
                    ('registration', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='invoices', to='registrations.registration', verbose_name='inschrijving')),
                ],
                options={
                    'verbose_name': 'factuur',
                    'verbose_name_plural': 'facturen',
                    'db_table': 'registrations_invoice',
                    'ordering': ['-invoice_date', '-number'],
                    'permissions': [('issue_invoice', 'Mag facturen aanmaken'), ('credit_invoice', 'Mag creditfacturen aanmaken'), ('mark_paid', 'Mag facturen als betaald markeren'), ('send_invoice', 'Mag facturen mailen')],
                },
            ),
            migrations.CreateModel(
                name='InvoiceLine',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('position', models.PositiveSmallIntegerField(default=1, verbose_name='regel')),
                    ('description', models.TextField(verbose_name='omschrijving')),
                    ('quantity', models.DecimalField(decimal_places=2, max_digits=9, verbose_name='aantal')),
                    ('unit_price', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='prijs per stuk excl. btw')),
                    ('vat_rate', models.DecimalField(decimal_places=2, max_digits=5, verbose_name='btw-tarief (%)')),
                    ('amount_excl_vat', models.DecimalField(decimal_places=2, max_digits=12, verbose_name='bedrag excl. btw')),
                    ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lines', to='invoicing.invoice', verbose_name='factuur')),
                ],
                options={
                    'verbose_name': 'factuurregel',
                    'verbose_name_plural': 'factuurregels',
                    'db_table': 'registrations_invoiceline',
                    'ordering': ['invoice', 'position'],
                },
            ),
            migrations.AddConstraint(
                model_name='invoice',
                constraint=models.UniqueConstraint(fields=('series', 'sequence'), name='one_number_per_series'),
            ),
            migrations.AddConstraint(
                model_name='invoice',
                constraint=models.CheckConstraint(condition=models.Q(models.Q(('credited_invoice__isnull', True), ('kind', 'invoice')), models.Q(('credited_invoice__isnull', False), ('kind', 'credit')), _connector='OR'), name='credit_note_refers_to_invoice'),
            ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
