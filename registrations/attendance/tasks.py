"""Attendance's e-mail as a task, queued by the admin action that sends certificates."""

from django_tasks import task

from werkplaats.queue import all_sent

from . import emails
from .models import Certificate


@task()
def send_certificate_email(certificate_id):
    certificate = Certificate.objects.select_related("registration").get(pk=certificate_id)
    sent = emails.send_certificate(certificate)
    return all_sent(certificate.registration.reference, {"certificate": sent})
