import io
import logging

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registrations.accesslog.changes import PARTICIPANT, log_change
from registrations.models import Registration
from registrations.views import detail_with, personal
from werkplaats.queue import atomic_with

from . import tasks
from .forms import BookingForm
from .ics import slot_calendar
from .models import CoachSlot, SlotRefused, booking_is_open, slot_of

logger = logging.getLogger(__name__)


def personal_section(registration, at, bound=None):
    """The coach conversation on the personal page (settings.PERSONAL_PAGE_SECTIONS): the
    booked slot, and until the day before the free ones to choose from. One query: the
    edition's slots (a few dozen at most)."""
    edition = registration.edition
    if registration.status != Registration.Status.CONFIRMED or edition.has_ended(at):
        return None
    slots = list(CoachSlot.objects.of_edition(edition))
    if not slots:
        return None
    mine = next((slot for slot in slots if slot.registration_id == registration.pk), None)
    # `bound`: the form as posted (its errors), or why the booking was refused (a text).
    if isinstance(bound, str):
        errors = [bound]
    elif bound is not None:
        errors = [str(message) for messages in bound.errors.values() for message in messages]
    else:
        errors = []
    choices = [slot for slot in slots if slot.registration_id in (None, registration.pk)]
    return {
        "template": "coaching/_personal.html",
        "slot": mine,
        "is_open": booking_is_open(edition, at),
        "errors": errors,
        "choices": choices,
    }


@never_cache
@require_POST
def book(request, token):
    registration = personal(token)
    form = BookingForm(registration, request.POST)
    if not form.is_valid():
        return detail_with(request, registration, 400, coaching=form)
    try:
        with atomic_with(tasks.send_booking_email) as queue_mail:
            before = slot_of(registration)
            slot = CoachSlot.objects.book(registration, form.cleaned_data["slot"].pk)
            if before is None or before.pk != slot.pk:
                log_change([registration, slot], "Coachgesprek geboekt", actor_name=PARTICIPANT)
                queue_mail(registration.pk)
    except SlotRefused as refusal:
        # The others see the slots that are still free, with why theirs is not.
        return detail_with(request, registration, 409, coaching=str(refusal))
    logger.info("Registration %s: coach slot booked", registration.reference)
    messages.success(request, "Je coachgesprek is geboekt. Je krijgt een bevestiging per e-mail.")
    return redirect(f"{registration.get_absolute_url()}#coachgesprek")


@never_cache
@require_POST
def cancel_booking(request, token):
    registration = personal(token)
    try:
        slot = CoachSlot.objects.release(registration)
    except SlotRefused as refusal:
        return detail_with(request, registration, 409, coaching=str(refusal))
    if slot:
        log_change([registration, slot], "Coachgesprek geannuleerd", actor_name=PARTICIPANT)
        logger.info("Registration %s: coach slot cancelled", registration.reference)
        messages.success(request, "Je coachgesprek is geannuleerd; het tijdstip is weer vrij.")
    return redirect(f"{registration.get_absolute_url()}#coachgesprek")


@never_cache
def slot_ics(request, token):
    """The booked conversation for the participant's agenda."""
    registration = personal(token)
    slot = slot_of(registration)
    if slot is None:
        return redirect(registration)
    return FileResponse(
        io.BytesIO(slot_calendar(slot)),
        as_attachment=True,
        filename="coachgesprek.ics",
        content_type="text/calendar",
    )
