"""What invoicing tells a participant before an invoice exists, for sign-up's pages and mails.

Sign-up may not import invoicing (it is the layer below); its templates load this library
instead, as they look for a certificate without sign-up's code knowing attendance.
"""

from django import template

from registrations.invoicing.models import InvoiceIssuer

register = template.Library()


@register.simple_tag
def payment_term_days():
    """The issuer's payment term in days, or None while finance has not set up the issuer:
    then the page says nothing about a term rather than a made-up one."""
    issuer = InvoiceIssuer.objects.filter(pk=1).only("payment_term_days").first()
    return issuer.payment_term_days if issuer else None
