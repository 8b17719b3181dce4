"""The e-mail that sign-up sends, as tasks (see TASKS in settings), and the functions that
queue the mail a freed place or a cancellation causes.

A task gets the registration's primary key, not the object: with the database queue it runs
later, in `manage.py db_worker`, and must read the registration as it is then. The view,
admin action or command that causes a mail queues it, inside the transaction that caused it;
no model method and no signal receiver queues mail behind a caller's back
(tests/test_mail_is_queued_by_its_cause.py checks the receivers).
"""

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from django_tasks import task

from werkplaats.queue import all_sent, enqueue_with_transaction, waiting_arguments

from . import emails
from .models import Order, Registration, RegistrationChange, WaitingListOffer


def _registration(registration_id):
    return Registration.objects.select_related("edition", "order").get(pk=registration_id)


@task()
def send_order_emails(order_id):
    """After a sign-up: each participant's confirmation (with the .ics), an overview for
    whoever signed up others, and one staff notification."""
    order = Order.objects.select_related("edition").get(pk=order_id)
    positions = list(order.positions.select_related("edition", "order").order_by("pk"))
    sent = {
        f"confirmation {registration.reference}": emails.send_confirmation(registration)
        for registration in positions
    }
    if [registration.email.lower() for registration in positions] != [order.email.lower()]:
        sent["order_overview"] = emails.send_order_overview(order, positions)
    sent["staff_notification"] = emails.notify_staff_of_order(order, positions)
    return all_sent(order.reference, sent)


@task()
def send_confirmation_email(registration_id):
    """The confirmation again (staff resend it), without a new staff notification."""
    registration = _registration(registration_id)
    return all_sent(
        registration.reference, {"confirmation": emails.send_confirmation(registration)}
    )


@task()
def send_reinstated_email(registration_id):
    """Staff reinstated a cancelled registration: its confirmation again (confirmed, or on the
    waiting list), and the booker is told."""
    registration = _registration(registration_id)
    sent = {"confirmation": emails.send_confirmation(registration)}
    _tell_booker(sent, registration, "reinstated")
    return all_sent(registration.reference, sent)


def _tell_booker(sent, registration, kind, **context):
    """The booker hears of a change to her order, unless it is her own place: then the
    participant's own mail (or her own act) already told her, and one event is one mail."""
    if registration.order.booker_is(registration.email):
        return
    sent["booker_notice"] = emails.notify_booker(registration, kind, **context)


@task()
def send_place_freed_email(registration_id):
    """Someone confirmed from the waiting list: the news that a place came free; the booker
    is told."""
    registration = _registration(registration_id)
    sent = {"confirmation": emails.send_confirmation(registration, from_waiting_list=True)}
    _tell_booker(sent, registration, "confirmed")
    return all_sent(registration.reference, sent)


def _cancellation_emails(registration_id, by_booker):
    registration = _registration(registration_id)
    sent = {
        # Her own place cancelled on her order page: an ordinary cancellation to her.
        "confirmation": emails.send_cancellation_confirmation(
            registration, by_booker and not registration.order.booker_is(registration.email)
        ),
        "staff_notification": emails.notify_staff_of_cancellation(registration),
    }
    if not by_booker:
        _tell_booker(sent, registration, "cancelled")
    return all_sent(registration.reference, sent)


@task()
def send_cancellation_emails(registration_id):
    """A cancellation on the participant's own page, by staff or by declining an offer: the
    participant, staff and the booker are told."""
    return _cancellation_emails(registration_id, by_booker=False)


@task()
def send_booker_cancellation_emails(registration_id):
    """The booker cancelled a colleague's place on her order page: the colleague is told who
    did it, staff are told; she saw it happen."""
    return _cancellation_emails(registration_id, by_booker=True)


@task()
def send_waiting_list_offer_email(offer_id):
    """The personal offer of a freed place, once. Not sent once the offer is closed: a worker
    that runs late must not offer a place that has gone to someone else. The offer's row is
    locked while it is sent, so the same offer queued twice (by the path that made it and by
    the expiry job catching up) is mailed once."""
    with transaction.atomic():
        # Only the offer's row: the edition's lock would hold up every sign-up meanwhile.
        offer = (
            WaitingListOffer.objects.select_for_update(of=("self",))
            .select_related("registration__edition", "registration__order")
            .get(pk=offer_id)
        )
        if offer.emailed_at is not None:
            return {"offer": "already sent"}
        if offer.state_at() != WaitingListOffer.State.OPEN:
            return {"offer": "closed before it was sent"}
        sent = {"offer": emails.send_waiting_list_offer(offer)}
        if sent["offer"]:
            _tell_booker(sent, offer.registration, "offered", offer=offer)
    return all_sent(offer.registration.reference, sent)


def queue_offer_mails(*editions):
    """Queue the mail of every open offer of `editions` not mailed (nor waiting to be) yet.

    Called by whatever may free a place (a cancellation, a declined or refused offer, a
    deletion, a higher maximum) inside the transaction that made the offers, after the model
    method that made them; the expiry job calls it for every edition, so an offer made in
    the shell is mailed on its next run. Returns the offers queued.
    """
    waiting = waiting_arguments(send_waiting_list_offer_email)
    offers = WaitingListOffer.objects.unmailed().filter(registration__edition__in=editions)
    queued = [offer for offer in offers.order_by("pk") if offer.pk not in waiting]
    for offer in queued:
        enqueue_with_transaction(send_waiting_list_offer_email, offer.pk)
    return queued


def queue_cancellation_notices(registration):
    """What a cancellation tells others, queued by the view or action that cancelled, inside
    its transaction: the offer of the freed place to the next in line, and what the layers
    built on sign-up, which it may not import, queue through settings.CANCELLATION_NOTICES
    (finance's notice that an invoice waits to be credited)."""
    queue_offer_mails(registration.edition)
    for path in settings.CANCELLATION_NOTICES:
        import_string(path)(registration)


def queue_confirmation_notices(*registrations):
    """What a confirmation tells the layers built on sign-up (settings.CONFIRMATION_NOTICES:
    invoicing's job where invoices leave at confirmation), queued by the view or action that
    confirmed, inside its transaction. Registrations still waiting are passed on too; each
    notice picks the confirmed ones."""
    for path in settings.CONFIRMATION_NOTICES:
        import_string(path)(registrations)


def queue_invoiceable_notices(*orders):
    """Orders that nothing holds from invoicing any more (finance linked or corrected their
    organisation): settings.INVOICEABLE_NOTICES tells invoicing, which sends where the edition
    says invoices go by themselves. Called by the admin view that unblocked them, in its
    transaction."""
    for path in settings.INVOICEABLE_NOTICES:
        import_string(path)(orders)


@task()
def send_change_emails(change_id):
    """A change on the participant's own page or, for a substitute, on the booker's order
    page: staff are told; a substitute gets their own confirmation with their new link, and
    whoever handed the place over a note that it went; the booker hears of what she did not
    do herself. Each person gets one mail for the change."""
    change = RegistrationChange.objects.select_related(
        "registration__edition", "registration__order"
    ).get(pk=change_id)
    registration = change.registration
    order = registration.order
    sent = {"staff_notification": emails.notify_staff_of_change(change)}
    if change.kind == RegistrationChange.Kind.SUBSTITUTE:
        sent["confirmation"] = emails.send_confirmation(
            registration, as_substitute=True, change=change
        )
        if change.previous_email:
            sent["handed_over"] = emails.send_handed_over(change)
        if not (change.by_booker or order.booker_is(change.previous_email)):
            _tell_booker(sent, registration, "substitute", change=change)
    elif not change.by_booker:
        _tell_booker(sent, registration, "choices", change=change)
    return all_sent(registration.reference, sent)


@task()
def send_personal_link_email(registration_id):
    """The personal link again, asked for on the public resend page: to the registration's
    own address only."""
    registration = _registration(registration_id)
    return all_sent(registration.reference, {"link": emails.send_personal_link(registration)})
