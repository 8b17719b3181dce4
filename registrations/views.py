import logging

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.module_loading import import_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from programme.models import Edition
from werkplaats.queue import atomic_with

from . import tasks
from .forms import ALREADY_REGISTERED, SignUpForm
from .models import (
    CHOICE_FIELDS,
    AlreadyRegistered,
    NotEnoughPlaces,
    OfferRefused,
    Order,
    Registration,
    RegistrationChange,
    RegistrationClosed,
    TransitionRefused,
    WaitingListOffer,
)
from .pages import sign_up_pages
from .ratelimit import post_limit_exceeded
from .selfservice import ChoicesForm, ResendLinkForm, SubstituteForm

# Log lines name registrations by reference (INS-00042), never by name or e-mail address.
logger = logging.getLogger(__name__)


def _closed(request, edition, status=200):
    context = {"edition": edition, "practical_contact": edition.practical_contact}
    return render(request, "registrations/closed.html", context, status=status)


def too_many_requests(request, retry_after):
    context = {"retry_minutes": -(-retry_after // 60)}
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(retry_after)
    return response


# The personal pages are marked never_cache (Cache-Control: private, no-store): no browser,
# proxy or shared computer keeps someone's details, nor what they typed into the form.
@never_cache
@require_http_methods(["GET", "POST"])
def register(request, slug):
    if request.method != "POST":
        # The empty form: the same page for every visitor but the CSRF token and the key,
        # kept by each worker (registrations/pages.py).
        copy, edition, places = sign_up_pages.edition(slug)
        if not edition.registration_is_open(timezone.now()):
            return _closed(request, edition)
        return sign_up_pages.empty_form(request, copy, edition, places, _empty_form_page)
    edition = get_object_or_404(Edition.objects.published(), slug=slug)
    retry_after = post_limit_exceeded(request, "register")
    if retry_after:
        return too_many_requests(request, retry_after)
    if not edition.registration_is_open(timezone.now()):
        # Also for a form loaded before the deadline and posted after it.
        return _closed(request, edition, status=403)

    if SignUpForm.rearranges(request.POST):
        form = SignUpForm.rearranged(request.POST, edition=edition)
    else:
        form = SignUpForm(request.POST, edition=edition)
        valid = form.is_valid()
        if form.earlier:
            # A double-clicked submit: show what the first click created.
            return redirect(form.earlier.confirmation_url())
        if valid:
            order = form.order()
            try:
                with atomic_with(tasks.send_order_emails) as queue_mail:
                    positions = Registration.objects.place(
                        order, form.positions(), when_short=form.when_short
                    )
                    form.store_answers()
                    queue_mail(order.pk)
                    tasks.queue_confirmation_notices(*positions)
            except NotEnoughPlaces as short:
                form.ask_when_short(short)
            except RegistrationClosed:
                return _closed(request, edition, status=403)
            except AlreadyRegistered:
                earlier = Order.objects.submitted_with(edition, form.submission_key)
                if earlier:
                    # A double-clicked submit: show what the first click created.
                    return redirect(earlier.confirmation_url())
                form.add_error(ALREADY_REGISTERED)
            else:
                logger.info(
                    "Order %s stored: %s",
                    order.reference,
                    ", ".join(f"{r.reference} {r.status}" for r in positions),
                )
                # Thanks once, right after the sign-up; the page itself says where things stand.
                messages.success(
                    request, f"Bedankt, {order.first_name}. Je ontvangt een bevestiging per e-mail."
                )
                return redirect(order.confirmation_url(positions))
    return render(
        request,
        "registrations/register.html",
        {
            "edition": edition,
            "form": form,
            "places_left": Registration.objects.places_left(edition),
        },
    )


def _empty_form_page(edition, csrf_token, submission_key):
    """The empty form page with these two placeholders, rendered without the request: it is
    kept for every visitor (no context processor's data of the first one in it)."""
    form = SignUpForm(edition=edition)
    form.empty_submission_key = submission_key
    context = {
        "edition": edition,
        "form": form,
        "places_left": Registration.objects.places_left(edition),
        "csrf_token": csrf_token,
    }
    return render_to_string("registrations/register.html", context)


def _order(token):
    return get_object_or_404(Order.objects.select_related("edition"), token=token)


def _position(order, key):
    """A participant of `order` only, by their booker_key: another order's token never
    reaches anyone else's."""
    for registration in order.positions.select_related("edition", "order"):
        if constant_time_compare(registration.booker_key, key):
            return registration
    raise Http404


@never_cache
@require_safe
def order(request, token):
    """The booker's overview: every participant with their status, the totals, and per
    participant what she may do for them under the rules of their own page."""
    order = _order(token)
    now = timezone.now()
    positions = list(order.positions.select_related("edition").order_by("pk"))
    for position in positions:
        position.booker_can_cancel = position.can_cancel(now)
        position.booker_can_substitute = position.can_name_substitute(now)
    return render(
        request,
        "registrations/order.html",
        {
            "order": order,
            "edition": order.edition,
            "positions": positions,
            "totals": order.totals(),
            "anyone_waits": any(p.status == Registration.Status.WAITING for p in positions),
            "practical_contact": order.edition.practical_contact,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def order_cancel(request, token, key):
    """The booker cancels a colleague's place, under the rule of the colleague's own page."""
    order = _order(token)
    registration = _position(order, key)
    if request.method == "POST" and registration.can_cancel():
        with atomic_with(tasks.send_booker_cancellation_emails) as queue_mail:
            registration.cancel()
            queue_mail(registration.pk)
            tasks.queue_cancellation_notices(registration)
        logger.info(
            "Registration %s cancelled by the booker of %s", registration.reference, order.reference
        )
        messages.success(
            request,
            f"De inschrijving van {registration.full_name} is geannuleerd. "
            "Die deelnemer krijgt een bevestiging per e-mail.",
        )
        return redirect(order)
    return render(
        request,
        "registrations/order_cancel.html",
        {
            "order": order,
            "registration": registration,
            "edition": order.edition,
            "can_cancel": registration.can_cancel(),
            "practical_contact": order.edition.practical_contact,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def order_substitute(request, token, key):
    """The booker names a substitute for a colleague, under the rule of the colleague's own
    page (Registration.name_substitute)."""
    order = _order(token)
    registration = _position(order, key)
    status = 200
    if request.method == "POST":
        form = SubstituteForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                with atomic_with(tasks.send_change_emails) as queue_mail:
                    change = registration.name_substitute(by_booker=True, **form.person())
                    queue_mail(change.pk)
            except TransitionRefused as refusal:
                form.add_error(None, str(refusal))
                status = 409
            else:
                logger.info(
                    "Registration %s: substitute named by the booker of %s",
                    registration.reference,
                    order.reference,
                )
                messages.success(
                    request,
                    f"{registration.full_name} neemt de plaats van {change.previous_name} in. "
                    "Beiden krijgen een e-mail.",
                )
                return redirect(order)
    else:
        form = SubstituteForm()
    return render(
        request,
        "registrations/order_substitute.html",
        {
            "order": order,
            "registration": registration,
            "edition": order.edition,
            "form": form if registration.can_name_substitute() else None,
            "practical_contact": order.edition.practical_contact,
        },
        status=status,
    )


def _open_offer(registration):
    """The offer someone waiting holds now, if any (only the waiting can hold one)."""
    if registration.status != Registration.Status.WAITING:
        return None
    return registration.offers.open().filter(expires_at__gt=timezone.now()).first()


def personal_sections(registration, at, bound=None):
    """What the layers built on sign-up show on the personal page (settings.
    PERSONAL_PAGE_SECTIONS), each a context with its "template"; `bound` holds a section's
    form as posted, by the section's name, to show its errors."""
    bound = bound or {}
    found = []
    for name, path in settings.PERSONAL_PAGE_SECTIONS.items():
        section = import_string(path)(registration, at, bound.get(name))
        if section is not None:
            found.append(section)
    return found


def _detail(request, registration, choices_form=None, substitute_form=None, status=200, bound=None):
    """The personal page; with the self-service forms as far as the rules allow them now.
    `bound`: a section's posted form by name (see personal_sections)."""
    edition = registration.edition
    now = timezone.now()
    if choices_form is None and registration.can_change_choices(now):
        choices_form = ChoicesForm(
            initial={name: getattr(registration, name) for name in CHOICE_FIELDS}
        )
    if substitute_form is None and registration.can_name_substitute(now):
        substitute_form = SubstituteForm()
    context = {
        "registration": registration,
        "edition": edition,
        "has_ended": edition.has_ended(now),
        "can_cancel": registration.can_cancel(now),
        "practical_contact": edition.practical_contact,
        "choices_form": choices_form,
        "substitute_form": substitute_form,
        "open_offer": _open_offer(registration),
        "sections": personal_sections(registration, now, bound),
    }
    return render(request, "registrations/detail.html", context, status=status)


def detail_with(request, registration, status, **bound):
    """The personal page again with a section's posted form (its errors), for the views of
    the layers built on sign-up."""
    return _detail(request, registration, status=status, bound=bound)


def personal(token):
    """The registration a personal link opens (404 for any other token)."""
    return _personal(token)


def _personal(token):
    return get_object_or_404(Registration.objects.select_related("edition", "order"), token=token)


def _handed_over(request, change, status):
    """The place went to a substitute: said to whoever holds the old link, right after
    handing it over (200) and whenever they open that link again (404: it no longer works).
    The substitute's name only while the registration is not anonymised."""
    registration = change.registration
    context = {
        "edition": registration.edition,
        "just_now": status == 200,
        "substitute_name": "" if registration.anonymised_at else registration.full_name,
    }
    return render(request, "registrations/substituted.html", context, status=status)


@never_cache
@require_safe
def detail(request, token):
    registration = Registration.objects.select_related("edition", "order").filter(token=token)
    registration = registration.first()
    if registration is None:
        change = RegistrationChange.handed_over(token)
        if change is None:
            raise Http404
        return _handed_over(request, change, status=404)
    return _detail(request, registration)


@never_cache
@require_POST
def change_choices(request, token):
    registration = _personal(token)
    form = ChoicesForm(request.POST)
    if not form.is_valid():
        return _detail(request, registration, choices_form=form, status=400)
    try:
        with atomic_with(tasks.send_change_emails) as queue_mail:
            change = registration.change_choices(**form.choices())
            if change:
                queue_mail(change.pk)
    except TransitionRefused as refusal:
        form.add_error(None, str(refusal))
        return _detail(request, registration, choices_form=form, status=409)
    if change:
        logger.info("Registration %s: choices changed", registration.reference)
        messages.success(request, "Je keuzes zijn opgeslagen. De organisatie is op de hoogte.")
    else:
        messages.success(request, "Er was niets veranderd.")
    return redirect(registration)


@never_cache
@require_POST
def substitute(request, token):
    registration = _personal(token)
    form = SubstituteForm(request.POST)
    if not form.is_valid():
        return _detail(request, registration, substitute_form=form, status=400)
    try:
        with atomic_with(tasks.send_change_emails) as queue_mail:
            change = registration.name_substitute(**form.person())
            queue_mail(change.pk)
    except TransitionRefused as refusal:
        form.add_error(None, str(refusal))
        return _detail(request, registration, substitute_form=form, status=409)
    logger.info("Registration %s: substitute named", registration.reference)
    # The old link no longer works: the page that answers is a plain one, without details.
    return _handed_over(request, change, status=200)


@never_cache
@require_http_methods(["GET", "POST"])
def resend_link(request, slug):
    """'Stuur mij mijn bevestigingslink opnieuw': the personal link goes to the address typed,
    only when it has an active registration; the answer is the same either way, so the page
    reveals nobody's registration."""
    edition = get_object_or_404(Edition.objects.published(), slug=slug)
    sent = False
    if request.method == "POST":
        retry_after = post_limit_exceeded(request, "resend-link")
        if retry_after:
            return too_many_requests(request, retry_after)
        form = ResendLinkForm(request.POST)
        if form.is_valid():
            registration = Registration.objects.active_with_email(
                edition, form.cleaned_data["email"]
            )
            if registration:
                with atomic_with(tasks.send_personal_link_email) as queue_mail:
                    queue_mail(registration.pk)
                logger.info("Registration %s: personal link sent again", registration.reference)
            sent = True
    else:
        form = ResendLinkForm()
    context = {"edition": edition, "form": form, "sent": sent}
    return render(request, "registrations/resend_link.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def cancel(request, token):
    registration = get_object_or_404(Registration.objects.select_related("edition"), token=token)
    edition = registration.edition
    if request.method == "POST" and registration.can_cancel():
        with atomic_with(tasks.send_cancellation_emails) as queue_mail:
            registration.cancel()
            queue_mail(registration.pk)
            # The freed place's offer to the next in line; finance, if it was invoiced.
            tasks.queue_cancellation_notices(registration)
        logger.info("Registration %s cancelled", registration.reference)
        messages.success(
            request, "Je inschrijving is geannuleerd. Je ontvangt een bevestiging per e-mail."
        )
        return redirect(registration)
    return render(
        request,
        "registrations/cancel.html",
        {
            "registration": registration,
            "edition": edition,
            "can_cancel": registration.can_cancel(),
            "practical_contact": edition.practical_contact,
        },
    )


def _offer(token):
    return get_object_or_404(
        WaitingListOffer.objects.select_related("registration__edition"), token=token
    )


@never_cache
@require_safe
def offer(request, token):
    """The personal offer of a freed place: its state, and Accept / Decline while it is open."""
    offer = _offer(token)
    registration = offer.registration
    edition = registration.edition
    return render(
        request,
        "registrations/offer.html",
        {
            "offer": offer,
            "state": offer.state_at(),
            "registration": registration,
            "edition": edition,
            "practical_contact": edition.practical_contact,
        },
    )


@never_cache
@require_POST
def accept_offer(request, token):
    offer = _offer(token)
    # A refusal is caught inside the transaction: what accept() did on its way (expiring
    # a lapsed offer, passing its place on) must be kept, not rolled back, and the offer of
    # a place passed on is mailed.
    with atomic_with(tasks.send_place_freed_email) as queue_mail:
        try:
            registration = offer.accept()
        except OfferRefused as refusal:
            registration = None
            messages.warning(request, str(refusal))
        else:
            queue_mail(registration.pk)
            tasks.queue_confirmation_notices(registration)
        tasks.queue_offer_mails(offer.registration.edition)
    if registration is None:
        return redirect(offer)
    logger.info("Registration %s confirmed by accepting its offer", registration.reference)
    messages.success(
        request, "Je hebt de plaats aangenomen: je inschrijving is bevestigd. Je krijgt een e-mail."
    )
    return redirect(registration)


@never_cache
@require_POST
def decline_offer(request, token):
    offer = _offer(token)
    with atomic_with(tasks.send_cancellation_emails) as queue_mail:
        try:
            registration = offer.decline()
        except OfferRefused as refusal:  # caught inside, as in accept_offer
            registration = None
            messages.warning(request, str(refusal))
            tasks.queue_offer_mails(offer.registration.edition)
        else:
            queue_mail(registration.pk)
            tasks.queue_cancellation_notices(registration)
    if registration is None:
        return redirect(offer)
    logger.info("Registration %s declined its offer", registration.reference)
    messages.success(request, "Je hebt het aanbod afgewezen. De plaats gaat naar de volgende.")
    return redirect(offer)
