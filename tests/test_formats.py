"""werkplaats/formats.py: the one place dates and amounts are written out, the Dutch way."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import translation

from registrations.payments.models import Payment
from werkplaats import formats


def test_numeric_date_is_day_month_year_with_leading_zeros():
    assert formats.numeric_date(datetime.date(2026, 3, 7)) == "07-03-2026"


def test_moment_is_in_amsterdam_time_whatever_the_zone_it_was_stored_in():
    winter = datetime.datetime(2026, 12, 6, 13, 5, tzinfo=datetime.UTC)
    summer = datetime.datetime(2026, 7, 1, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert formats.moment(winter) == "06-12-2026 14:05"
    assert formats.moment(summer) == "02-07-2026 01:30"


def test_clock_is_hours_and_minutes():
    assert formats.clock(datetime.time(9, 0)) == "09:00"


def test_a_payment_names_its_amount_the_dutch_way():
    payment = Payment(amount=Decimal("-1234.50"), booking_date=datetime.date(2026, 1, 2))
    assert str(payment) == "€ 1.234,50 betaald op 02-01-2026"


def test_amounts_are_dutch_whatever_language_is_active():
    for language in ("nl", "en", None):
        with translation.override(language):
            assert formats.money(Decimal("1800")) == "€ 1.800,00"
            assert formats.money(Decimal("-378.005")) == "€ -378,01"
            assert formats.whole_euros(Decimal("1800")) == "€ 1.800,-"
            assert formats.percentage(Decimal("9.50")) == "9,5%"
            assert formats.decimal(Decimal("1234567.5")) == "1.234.567,5"
