import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("programme", "0003_event_days_and_retention")]

    operations = [
        migrations.AddField(
            model_name="edition",
            name="max_participants_per_order",
            field=models.PositiveSmallIntegerField(
                default=5,
                help_text="Zoveel mensen kan iemand in één keer inschrijven: zichzelf en collega's.",
                validators=[
                    django.core.validators.MinValueValidator(1),
                    django.core.validators.MaxValueValidator(50),
                ],
                verbose_name="maximum aantal deelnemers per inschrijving",
            ),
        ),
    ]
