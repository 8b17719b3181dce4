"""Transmission's part of the back office's overview: the e-invoices finance must look at
(werkplaats/admin_site.py shows the count and links to the filtered list)."""

from .models import Transmission


def needs_attention(now):
    """In flight for more than a day, or refused or rejected and not yet decided."""
    return Transmission.objects.worklist(now)
