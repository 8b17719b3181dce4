"""Long admin actions as jobs: BulkJob (one unfinished per action and selection) and the
outcome of each of its rows (BulkJobItem, one per row)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('invoicing', '0010_invoices_of_orders'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='BulkJob',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('issue', 'facturen aanmaken'), ('credit', 'creditfacturen maken'), ('email', 'facturen mailen'), ('restore', "pdf's controleren en herstellen"), ('zip', "ZIP van pdf's en e-facturen")], max_length=10, verbose_name='soort')),
                ('selection', models.JSONField(help_text='De primaire sleutels, oplopend.', verbose_name='selectie')),
                ('selection_key', models.CharField(editable=False, max_length=64)),
                ('total', models.PositiveIntegerField(verbose_name='aantal')),
                ('done', models.PositiveIntegerField(default=0, verbose_name='verwerkt')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='aangevraagd op')),
                ('started_at', models.DateTimeField(blank=True, null=True, verbose_name='begonnen op')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='laatst bijgewerkt')),
                ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='klaar op')),
                ('result', models.BinaryField(blank=True, null=True, verbose_name='resultaat')),
                ('result_name', models.CharField(blank=True, max_length=100, verbose_name='bestandsnaam')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='aangevraagd door')),
            ],
            options={
                'verbose_name': 'achtergrondtaak',
                'verbose_name_plural': 'achtergrondtaken',
                'ordering': ['-created_at'],
            },
        ),
        migrations.CreateModel(
            name='BulkJobItem',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('object_id', models.PositiveBigIntegerField(verbose_name='sleutel')),
                ('succeeded', models.BooleanField(verbose_name='gelukt')),
                ('message', models.TextField(verbose_name='uitkomst')),
                ('done_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='op')),
                ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='items', to='invoicing.bulkjob', verbose_name='taak')),
            ],
            options={
                'verbose_name': 'uitkomst',
                'verbose_name_plural': 'uitkomsten',
                'ordering': ['pk'],
            },
        ),
        migrations.AddConstraint(
            model_name='bulkjob',
            constraint=models.UniqueConstraint(condition=models.Q(('finished_at__isnull', True)), fields=('kind', 'selection_key'), name='one_unfinished_job_per_selection'),
        ),
        migrations.AddConstraint(
            model_name='bulkjobitem',
            constraint=models.UniqueConstraint(fields=('job', 'object_id'), name='one_outcome_per_item'),
        ),
    ]
