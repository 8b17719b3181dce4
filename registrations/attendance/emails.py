"""The certificate of participation by e-mail, with its PDF attached."""

from django.utils import timezone

from werkplaats import formats
from werkplaats.mail import render_message, send_logged

from . import pdf


def send_certificate(certificate):
    registration = certificate.registration
    message = render_message(
        "certificate",
        {
            "certificate": certificate,
            "registration": registration,
            "period": formats.period(certificate.start_date, certificate.end_date),
        },
        [registration.email],
        attachments=[(certificate.filename, pdf.certificate(certificate), "application/pdf")],
    )
    sent = send_logged(message, registration.reference, "certificate")
    if sent:
        certificate.emailed_at = timezone.now()
        certificate.save(update_fields=["emailed_at"])
    return sent
