import logging

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from registrations.models import Registration
from registrations.views import detail_with, personal

from .models import Consent, ConsentRefused, consents

logger = logging.getLogger(__name__)


def personal_section(registration, at, bound=None):
    """The network on the personal page (settings.PERSONAL_PAGE_SECTIONS): one button to share
    or stop sharing, and, for who shares, the others of the edition who do. Those who do not
    share see nobody: the list is a give and take, so nobody reads it without being on it."""
    if registration.status != Registration.Status.CONFIRMED:
        return None
    mine = consents(registration)
    others = []
    if mine:
        others = [c for c in Consent.objects.of_edition(registration.edition) if c.pk != mine.pk]
    return {
        "template": "network/_personal.html",
        "consent": mine,
        "others": others,
        "refusal": bound,
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
