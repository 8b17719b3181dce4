from django_tasks import task

from registrations.models import Registration
from werkplaats.queue import all_sent

from . import emails
from .models import slot_of


@task()
def send_booking_email(registration_id):
    """The booked slot as it is when the mail goes out; none (freed since): nothing to say."""
    registration = Registration.objects.select_related("edition").get(pk=registration_id)
    slot = slot_of(registration)
    if slot is None:
        return {}
    sent = emails.send_booking_confirmation(registration, slot)
    return all_sent(registration.reference, {"booking": sent})
