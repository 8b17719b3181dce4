"""The preparation material on the participant's personal page. Sign-up's template loads
this library; sign-up's code never imports the messages app."""

from django import template

from ..models import Material

register = template.Library()


@register.simple_tag
def preparation_material(registration):
    """[(material, where to open it)] released to this confirmed participant so far."""
    return [
        (material, material.url_for(registration))
        for material in Material.objects.for_participant(registration)
    ]
