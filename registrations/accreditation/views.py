import logging

from django.contrib import messages
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registrations.views import detail_with, personal

from .forms import NumbersForm
from .models import Entry, NumbersClosed, Register, save_numbers

logger = logging.getLogger(__name__)


def personal_section(registration, at, bound=None):
    """The registration numbers on the personal page (settings.PERSONAL_PAGE_SECTIONS): a
    form until the edition has ended, the numbers read-only after it; only where the
    edition has a register, and not for a cancelled registration. One query for the
    registers, one for the numbers."""
    if registration.is_cancelled:
        return None
    registers = list(Register.objects.filter(edition=registration.edition))
    if not registers:
        return None
    given = dict(
        Entry.objects.filter(registration=registration).values_list("register_id", "number")
    )
    context = {
        "template": "accreditation/_personal.html",
        "registers": [(register, given.get(register.pk, "")) for register in registers],
        "is_open": not registration.edition.has_ended(at),
    }
    if context["is_open"]:
        initial = {NumbersForm.name_of(r): number for r, number in context["registers"]}
        context["form"] = bound or NumbersForm(registers, initial=initial)
    elif bound is not None:
        context["refusals"] = bound.non_field_errors()
    return context


@never_cache
@require_POST
def save(request, token):
    registration = personal(token)
    form = NumbersForm(Register.objects.filter(edition=registration.edition), request.POST)
    if not form.is_valid():
        return detail_with(request, registration, 400, accreditation=form)
    try:
        changed = save_numbers(registration, form.numbers(), timezone.now())
    except NumbersClosed as refusal:
        form.add_error(None, str(refusal))
        return detail_with(request, registration, 409, accreditation=form)
    if changed:
        logger.info("Registration %s: registration number saved", registration.reference)
    messages.success(
        request, "Je registratienummer is opgeslagen." if changed else "Er was niets veranderd."
    )
    return redirect(f"{registration.get_absolute_url()}#accreditatie")
