"""`manage.py check` warnings for what the invoice PDF needs from the operating system."""

import ctypes.util

from django.core.checks import Warning, register

from werkplaats.pdf import font_paths


@register()
def invoice_pdf_dependencies(app_configs=None, **kwargs):
    warnings = []
    if ctypes.util.find_library("harfbuzz-subset") is None:
        warnings.append(
            Warning(
                "libharfbuzz-subset ontbreekt: factuur-pdf's worden dan ongeveer tien keer "
                "zo traag gemaakt (WeasyPrint valt terug op fontTools).",
                hint="Installeer het Debian-pakket libharfbuzz-subset0 (zie README).",
                id="invoicing.W001",
            )
        )
    missing = [str(path) for path in font_paths().values() if not path.is_file()]
    if missing:
        warnings.append(
            Warning(
                "Het lettertype van de factuur ontbreekt: " + ", ".join(missing) + ". "
                "Factureren mislukt tot het is geïnstalleerd.",
                hint="Installeer het Debian-pakket fonts-dejavu-core (zie README).",
                id="invoicing.W002",
            )
        )
    return warnings
