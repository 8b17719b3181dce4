"""Dutch dates, periods and amounts: the one place the site formats them.

Everything goes through Django's own l10n (`date_format`, and `numberformat` with the `nl`
formats) under the `nl` locale, so a page, an e-mail, an invoice PDF and an export written outside a request (a task,
a command) all say "3 oktober 2022" and "€ 1.800,00" alike.
"""

from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.utils import numberformat, timezone, translation
from django.utils.formats import date_format, get_format

CENT = Decimal("0.01")


def round_cents(amount):
    """Half-up to whole cents (away from zero: a credit note mirrors its invoice)."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


def vat_per_rate(amounts):
    """[(rate, amount excl. VAT, VAT)] per VAT rate, highest rate first, from
    [(rate, amount excl. VAT)]: VAT computed once per rate over the sum of that rate's
    amounts and rounded half-up to cents, as EN 16931 requires (per rate, never per line).
    The one home of the rule: the invoice and the booker's totals both use it."""
    bases = defaultdict(Decimal)
    for rate, amount in amounts:
        bases[Decimal(rate)] += Decimal(amount)
    return [
        (rate, round_cents(base), round_cents(base * rate / 100))
        for rate, base in sorted(bases.items(), reverse=True)
    ]


def _number(value, decimals):
    # What number_format does under translation.override("nl"), without switching the
    # language back and forth for every amount (an invoice has a dozen).
    return numberformat.format(
        value,
        get_format("DECIMAL_SEPARATOR", "nl", use_l10n=True),
        decimals,
        get_format("NUMBER_GROUPING", "nl", use_l10n=True),
        get_format("THOUSAND_SEPARATOR", "nl", use_l10n=True),
        force_grouping=True,
        use_l10n=True,
    )


def money(amount):
    """€ 1.800,00 and € -378,00."""
    return f"€ {_number(round_cents(amount), 2)}"


def whole_euros(amount):
    """€ 1.800,- for whole euros (as the organiser writes prices), € 1.800,50 otherwise."""
    amount = Decimal(amount)
    if amount == amount.to_integral_value():
        return f"€ {_number(amount, 0)},-"
    return money(amount)


def decimal(value):
    """21.00 -> '21', 9.50 -> '9,5', 2 -> '2': no trailing zeros."""
    value = Decimal(value).normalize()
    decimals = max(-value.as_tuple().exponent, 0)
    return _number(value, decimals)


def percentage(rate):
    """21.00 -> '21%', 9.50 -> '9,5%'."""
    return f"{decimal(rate)}%"


def day(value, weekday=False):
    """3 oktober 2022, or maandag 3 oktober 2022."""
    with translation.override("nl"):
        return date_format(value, "l j F Y" if weekday else "j F Y")


def period(start, end, weekdays=False):
    """'21 t/m 23 november 2022'; the month or year is repeated only when it changes:
    '29 november t/m 1 december 2027', '29 december 2027 t/m 2 januari 2028'."""
    if start == end:
        return day(start, weekdays)
    if (start.year, start.month) == (end.year, end.month):
        first = "l j" if weekdays else "j"
    elif start.year == end.year:
        first = "l j F" if weekdays else "j F"
    else:
        first = "l j F Y" if weekdays else "j F Y"
    with translation.override("nl"):
        return f"{date_format(start, first)} t/m {day(end, weekdays)}"


def numeric_date(value):
    """06-12-2026: dates in lists, exports and short messages."""
    with translation.override("nl"):
        return date_format(value, "d-m-Y")


def moment(value):
    """06-12-2026 14:05, in Amsterdam time: when something happened."""
    with translation.override("nl"):
        return date_format(timezone.localtime(value), "d-m-Y H:i")


def clock(value):
    """09:30: a time of day."""
    with translation.override("nl"):
        return date_format(value, "H:i")
