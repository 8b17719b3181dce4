"""The certificate of participation by e-mail, with its PDF attached."""

from django.utils import timezone

from werkplaats import formats
from werkplaats.mail import render_message, send_logged

from . import pdf


def certificate_message(certificate):
    """The certificate's mail with its PDF; an unsaved certificate gives what the admin's
    confirmation page previews."""
    registration = certificate.registration
    return render_message(
        "certificate",
        {
            "certificate": certificate,
            "registration": registration,
            "period": formats.period(certificate.start_date, certificate.end_date),
        },
        [registration.email],
        attachments=[(certificate.filename, pdf.certificate(certificate), "application/pdf")],
    )


def send_certificate(certificate):
    message = certificate_message(certificate)
    sent = send_logged(message, certificate.registration.reference, "certificate")
    if sent:
        certificate.emailed_at = timezone.now()
        certificate.save(update_fields=["emailed_at"])
    return sent
