import io
import logging

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

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
    booked slot, and until the day before the free ones to choose from."""
    edition = registration.edition
    if registration.status != Registration.Status.CONFIRMED or edition.has_ended(at):
        return None
    if not CoachSlot.objects.filter(edition=edition).exists():
        return None
    slot = slot_of(registration)
    # `bound`: the form as posted, or why the booking was refused (a text).
    refusal = bound if isinstance(bound, str) else None
    context = {
        "template": "coaching/_personal.html",
        "slot": slot,
        "is_open": booking_is_open(edition, at),
        "refusal": refusal,
    }
    if context["is_open"]:
        form = None if refusal else bound
        form = form or BookingForm(registration, initial={"slot": slot})
        context["form"] = form
        context["choices"] = form.fields["slot"].queryset.exists()
    return context


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
