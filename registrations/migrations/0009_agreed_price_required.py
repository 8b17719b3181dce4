"""The agreed price is required, and a cancelled registration has its cancellation date.

Apart from 0008, which filled them in: PostgreSQL does not alter a table in the transaction
that just updated its rows ("pending trigger events").
"""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("registrations", "0008_agreed_price_and_waiting_queue")]

    operations = [
        migrations.AlterField(
            model_name="registration",
            name="price_excl_vat",
            field=models.DecimalField(decimal_places=2, max_digits=9, validators=[django.core.validators.MinValueValidator(Decimal("0"))], verbose_name="afgesproken prijs excl. btw"),
        ),
        migrations.AlterField(
            model_name="registration",
            name="vat_rate",
            field=models.DecimalField(decimal_places=2, max_digits=5, validators=[django.core.validators.MinValueValidator(Decimal("0")), django.core.validators.MaxValueValidator(Decimal("100"))], verbose_name="afgesproken btw-tarief (%)"),
        ),
        migrations.AddConstraint(
            model_name="registration",
            constraint=models.CheckConstraint(condition=models.Q(models.Q(("cancelled_at__isnull", False), ("status", "cancelled")), models.Q(models.Q(("status", "cancelled"), _negated=True), ("cancelled_at__isnull", True)), _connector="OR"), name="cancelled_exactly_when_cancelled_at", violation_error_message="Een geannuleerde inschrijving heeft een annuleerdatum, een andere niet."),
        ),
    ]
