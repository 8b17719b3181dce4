from django import template

from werkplaats import formats

register = template.Library()


@register.filter
def money(amount):
    """€ 2.178,00, through the one place the site formats money."""
    return formats.money(amount)


@register.filter
def day(value):
    """3 oktober 2022, through the one place the site formats dates."""
    return formats.day(value) if value else ""
