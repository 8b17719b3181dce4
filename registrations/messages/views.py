from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from registrations.models import Registration

from .models import Material


def pdf_response(material):
    """The stored PDF as a download under its own name; the browser may not guess another
    type (nosniff), whatever the bytes look like."""
    response = HttpResponse(material.content(), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=material.filename
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@never_cache
@require_safe
def material(request, token, key):
    """A preparation document, from the participant's personal page: only with the personal
    link of a confirmed participant of its edition, and only once it is released."""
    registration = get_object_or_404(Registration, token=token)
    document = get_object_or_404(
        Material.objects.for_participant(registration).filter(kind=Material.Kind.FILE), key=key
    )
    return pdf_response(document)
