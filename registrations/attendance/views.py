import io

from django.http import FileResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import pdf
from .models import Certificate, certificate_sections


@never_cache
@require_safe
def download_certificate(request, token):
    """The participant's own certificate, from their personal page: the token is the key."""
    certificate = get_object_or_404(
        Certificate.objects.select_related("registration"), registration__token=token
    )
    return FileResponse(
        io.BytesIO(pdf.certificate(certificate)),
        as_attachment=True,
        filename=certificate.filename,
        content_type="application/pdf",
    )


@require_safe
def verify_certificate(request, code):
    """Anyone holding a certificate can check it is genuine: name, workshop and dates, from
    the certificate's own snapshot, and nothing else about the participant (what the layers
    add, such as accreditation points, shows no registration number)."""
    certificate = get_object_or_404(Certificate, code=code)
    context = {"certificate": certificate, "sections": certificate_sections(certificate)}
    return render(request, "attendance/verify.html", context)
