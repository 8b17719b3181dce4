"""Accreditation's own admin page: a register's export of everyone who earned points.
admin.py wires it in with get_urls."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from registrations.accesslog.log import Kind, record
from werkplaats.exports import csv_response

from . import export
from .models import Register


def register_export(model_admin, request, pk):
    """The CSV the register's portal imports: personal data (names, registration numbers),
    for whoever may view the register's entries."""
    if not request.user.has_perm("accreditation.view_entry"):
        raise PermissionDenied
    register = get_object_or_404(Register.objects.select_related("edition"), pk=pk)
    header, rows = export.table(register)
    filename = f"punten-{slugify(register.name)}-{register.edition.slug}.csv"
    record(
        Kind.EXPORT,
        f"Accreditatiepunten {register.name} (CSV)",
        request=request,
        count=len(rows),
        edition=register.edition,
    )
    return csv_response(filename, header, rows)
