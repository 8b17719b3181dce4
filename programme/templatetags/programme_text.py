from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from werkplaats import formats

register = template.Library()


@register.filter
def paragraphs(text):
    """Plain text staff typed into admin -> escaped HTML paragraphs and bulleted lists.

    A blank line starts a new block; a block whose lines all start with "- " is a list.
    Staff never type HTML, so nothing they write can break the page or inject script.
    """
    blocks = [block.strip() for block in str(text).replace("\r\n", "\n").split("\n\n")]
    html = []
    for block in filter(None, blocks):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if all(line.startswith("- ") for line in lines):
            items = format_html_join("", "<li>{}</li>", ((line[2:].strip(),) for line in lines))
            html.append(format_html("<ul>{}</ul>", items))
        else:
            html.append(format_html("<p>{}</p>", " ".join(lines)))
    return mark_safe("\n".join(html))


@register.filter
def euro(amount):
    """€ 1.800,- for whole euros (as the organiser writes it), € 1.800,50 otherwise."""
    return formats.whole_euros(amount)


@register.filter
def money(amount):
    """€ 5.400,00: an amount to the cent, such as a total."""
    return formats.money(amount)


@register.simple_tag
def date_range(start, end, weekdays=False):
    """'21 t/m 23 november 2022', with the month or year only where it changes."""
    return formats.period(start, end, weekdays=weekdays)
