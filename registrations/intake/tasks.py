from django_tasks import task

from registrations.models import Registration
from werkplaats.queue import all_sent

from . import emails
from .models import Intake, has_case


@task()
def send_case_reminder_email(registration_id):
    """The reminder, unless the case was filled in (or the person left) since it was queued."""
    registration = Registration.objects.select_related("edition").get(pk=registration_id)
    if registration.status != Registration.Status.CONFIRMED or has_case(registration):
        return {}
    intake = Intake.objects.for_edition(registration.edition)
    sent = emails.send_case_reminder(registration, intake)
    return all_sent(registration.reference, {"case_reminder": sent})
