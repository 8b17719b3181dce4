import logging

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from programme.models import amsterdam_date
from registrations.models import Registration
from registrations.views import detail_with, personal

from .models import Consent, ConsentRefused, consents

logger = logging.getLogger(__name__)


def personal_section(registration, at, bound=None):
    """The network on the personal page (settings.PERSONAL_PAGE_SECTIONS), from the edition's
    first day on: one button to share or stop sharing, and, for who shares, the others of the edition who do. Those who do not
    share see nobody: the list is a give and take, so nobody reads it without being on it."""
    if registration.status != Registration.Status.CONFIRMED:
        # Only why a click was refused, if one was.
        return {"template": "network/_personal.html", "refusal": bound} if bound else None
    # From the first day, when the participants meet: before it nobody knows the others (and
    # the page before the event costs no query for it).
    if amsterdam_date(at) < registration.edition.start_date and not bound:
        return None
    mine = consents(registration)
    if mine is None and registration.anonymised_at is not None and not bound:
        return None  # nothing left to share, nothing shared
    others = []
    if mine:
        others = [c for c in Consent.objects.of_edition(registration.edition) if c.pk != mine.pk]
    return {
        "template": "network/_personal.html",
        "consent": mine,
        "others": others,
        "refusal": bound,
        "can_share": registration.anonymised_at is None,
    }


@never_cache
@require_POST
def consent(request, token):
    registration = personal(token)
    if request.POST.get("share") == "ja":
        try:
            Consent.objects.give(registration)
        except ConsentRefused as refusal:
            return detail_with(request, registration, 409, network=str(refusal))
        logger.info("Registration %s: network consent given", registration.reference)
        messages.success(request, "Je deelt je gegevens nu met de anderen die dat ook doen.")
    else:
        if Consent.objects.withdraw(registration):
            logger.info("Registration %s: network consent withdrawn", registration.reference)
        messages.success(
            request, "Je deelt je gegevens niet meer; we hebben ze uit de lijst gewist."
        )
    return redirect(f"{registration.get_absolute_url()}#netwerk")
