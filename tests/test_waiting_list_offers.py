"""The waiting list moves by itself: a freed place is offered to the first in line, held for
the edition's validity, accepted or declined on the offer's own page, expired by the job."""

import datetime
import io
from collections import Counter

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from programme.models import Edition
from registrations.models import (
    OfferRefused,
    Registration,
    TransitionRefused,
    WaitingListOffer,
)
from registrations.tasks import send_cancellation_emails, send_waiting_list_offer_email
from tests.conftest import (
    admin_action,
    form_data,
    make_edition,
    make_registration,
    post_in_parallel,
    sign_up_data,
)
from werkplaats.formats import day

Status = Registration.Status
State = WaitingListOffer.State
# A fixed moment, well before the editions' start (a year after the real today).
NOW = timezone.make_aware(datetime.datetime.combine(datetime.date.today(), datetime.time(10, 0)))


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def full(db, clock):
    """An edition of one place, taken, and three people waiting in that order."""
    edition = make_edition(capacity=1)
    taken = make_registration(edition, first_name="Bram")
    waiting = [
        make_registration(edition, first_name=name, at=NOW + datetime.timedelta(minutes=n))
        for n, name in enumerate(["Anouk", "Pieter", "Sanne"])
    ]
    assert [r.status for r in waiting] == [Status.WAITING] * 3
    return edition, taken, waiting


def open_offers(edition):
    return list(
        WaitingListOffer.objects.open().filter(registration__edition=edition).order_by("pk")
    )


def offered_to(edition):
    return [offer.registration.first_name for offer in open_offers(edition)]


def refreshed(*rows):
    for row in rows:
        row.refresh_from_db()
    return rows


def page_messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_a_cancellation_mails_the_first_in_line_a_personal_offer(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    edition, taken, (anouk, pieter, _sanne) = full
    # Cancelled in the shell, where no view queues the mail: the expiry job's next run sends
    # it (the views and actions queue it at once: tests/test_mail_is_queued_by_its_cause.py).
    with django_capture_on_commit_callbacks(execute=True):
        taken.cancel()
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_waiting_list_offers", stdout=io.StringIO())
    offer = anouk.offers.get()
    assert offer.state == State.OPEN
    assert offer.expires_at == NOW + datetime.timedelta(hours=48)
    assert offered_to(edition) == ["Anouk"]
    assert [m.to for m in mailoutbox] == [[anouk.email]]
    mail = mailoutbox[0]
    assert mail.subject == f"Er is een plaats vrij voor je: {edition.title}"
    expires = day(timezone.localtime(offer.expires_at), weekday=True)
    assert f"We houden de plaats voor je vast tot {expires}, 10:00 uur." in mail.body
    # Its own link, not the registration's.
    assert offer.get_absolute_url() in mail.body and offer.token != anouk.token
    html = mail.alternatives[0][0]
    assert offer.get_absolute_url() in html
    offer.refresh_from_db()
    assert offer.emailed_at == NOW


def test_an_open_offer_holds_its_place_against_the_queue_and_newcomers(full, client, clock):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    assert Registration.objects.places_left(edition) == 0
    # Staff cannot give the held place to the second in line, nor can a newcomer take it.
    with pytest.raises(TransitionRefused):
        pieter.confirm_from_waiting_list()
    client.post(
        reverse("registrations:register", args=[edition.slug]),
        sign_up_data(email="nieuw@example.nl"),
    )
    assert Registration.objects.get(email="nieuw@example.nl").status == Status.WAITING
    # A cancelled participant taken back joins the queue behind the offer too.
    assert taken.reinstate().status == Status.WAITING
    assert offered_to(edition) == ["Anouk"]


def test_accepting_the_offer_confirms_and_mails_the_confirmation(full, client, mailoutbox):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    page = client.get(offer.get_absolute_url())
    html = page.content.decode()
    assert "Dit aanbod is geldig tot" in html and "csrfmiddlewaretoken" in html
    assert "no-store" in page["Cache-Control"]
    response = client.post(reverse("registrations:accept_offer", args=[offer.token]))
    assert response.status_code == 302
    assert response["Location"] == anouk.get_absolute_url()
    refreshed(anouk, offer)
    assert anouk.status == Status.CONFIRMED
    assert (offer.state, offer.closed_at) == (State.ACCEPTED, NOW)
    assert [m.to for m in mailoutbox] == [[anouk.email]]
    assert "plaats voor je vrijgekomen" in mailoutbox[0].body
    assert Registration.objects.counts(edition) == {"confirmed": 1, "waiting": 2, "offered": 0}
    # A second click changes nothing and sends nothing more.
    again = client.post(reverse("registrations:accept_offer", args=[offer.token]))
    assert again["Location"] == offer.get_absolute_url()
    assert "al aangenomen" in " ".join(page_messages(again))
    assert len(mailoutbox) == 1
    assert "Je hebt dit aanbod aangenomen" in client.get(offer.get_absolute_url()).text


def test_accepting_one_second_before_the_end_succeeds(full, clock):
    _edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    clock.move_to(offer.expires_at - datetime.timedelta(seconds=1))
    assert offer.accept().status == Status.CONFIRMED


def test_an_offer_accepted_one_second_after_it_expired_is_refused_and_moves_on(
    full, client, clock, mailoutbox, django_capture_on_commit_callbacks
):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    clock.move_to(offer.expires_at + datetime.timedelta(seconds=1))
    # The job has not run yet: the page already says it expired, and accepting is refused.
    assert offer.state == State.OPEN
    assert "Dit aanbod is verlopen" in client.get(offer.get_absolute_url()).text
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:accept_offer", args=[offer.token]))
    assert response.status_code == 302
    assert response["Location"] == offer.get_absolute_url()
    assert "verlopen" in " ".join(page_messages(response))
    refreshed(anouk, offer)
    assert anouk.status == Status.WAITING
    assert offer.state == State.EXPIRED
    # The place went on to the next in line, and the late one is now last in the queue.
    assert offered_to(edition) == ["Pieter"]
    assert [m.to for m in mailoutbox] == [[pieter.email]]
    assert anouk.position_on_waiting_list() == 3
    assert Registration.objects.confirmed().filter(edition=edition).count() == 0


def test_an_offer_is_refused_at_the_very_second_it_ends(full, clock):
    _edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    clock.move_to(offer.expires_at)
    with pytest.raises(OfferRefused, match="verlopen"):
        offer.accept()
    assert refreshed(anouk)[0].status == Status.WAITING


def test_declining_takes_them_off_the_list_and_offers_the_place_to_the_next(
    full, client, mailoutbox, django_capture_on_commit_callbacks
):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registrations:decline_offer", args=[offer.token]))
    assert response["Location"] == offer.get_absolute_url()
    refreshed(anouk, offer)
    assert (offer.state, anouk.status) == (State.DECLINED, Status.CANCELLED)
    assert offered_to(edition) == ["Pieter"]
    recipients = [m.to for m in mailoutbox]
    assert [pieter.email] in recipients  # the offer
    assert [anouk.email] in recipients  # the cancellation confirmation
    assert "Je hebt dit aanbod afgewezen" in client.get(offer.get_absolute_url()).text
    # Accepting a declined offer afterwards is refused.
    with pytest.raises(OfferRefused, match="afgewezen"):
        offer.accept()


def test_a_cancellation_while_an_offer_is_out_offers_the_new_place_to_the_next(full):
    edition, taken, (anouk, pieter, sanne) = full
    Edition.objects.filter(pk=edition.pk).update(capacity=2)
    other = make_registration(edition, first_name="Ilse")
    Registration.objects.filter(pk=other.pk).update(status=Status.CONFIRMED, waiting_since=None)
    taken.cancel()
    assert offered_to(edition) == ["Anouk"]
    # A second place frees while Anouk's offer is out: it goes to Pieter, not to Anouk again.
    Registration.objects.get(pk=other.pk).cancel()
    assert sorted(offered_to(edition)) == ["Anouk", "Pieter"]
    assert anouk.offers.count() == 1
    assert Registration.objects.places_left(edition) == 0


def test_cancelling_while_holding_an_offer_passes_it_on(full):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    anouk.cancel()
    offer.refresh_from_db()
    assert offer.state == State.WITHDRAWN
    assert offered_to(edition) == ["Pieter"]
    with pytest.raises(OfferRefused, match="geldt niet meer"):
        offer.accept()


def test_raising_the_maximum_in_the_shell_offers_the_new_places_when_the_job_runs(
    full, mailoutbox, django_capture_on_commit_callbacks
):
    edition, _taken, (anouk, pieter, _sanne) = full
    edition.capacity = 3
    with django_capture_on_commit_callbacks(execute=True):
        edition.save()
    # Saving a model offers nothing and mails nobody; the expiry job does both.
    assert (WaitingListOffer.objects.count(), mailoutbox) == (0, [])
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_waiting_list_offers", stdout=io.StringIO())
    assert offered_to(edition) == ["Anouk", "Pieter"]
    assert [m.to for m in mailoutbox] == [[anouk.email], [pieter.email]]
    # Saving and running again changes nothing: the places are held, not offered twice.
    with django_capture_on_commit_callbacks(execute=True):
        edition.save()
        call_command("expire_waiting_list_offers", stdout=io.StringIO())
    assert WaitingListOffer.objects.count() == 2
    assert len(mailoutbox) == 2


def test_raising_the_maximum_in_the_admin_offers_the_new_places(
    full, client, staff_member, mailoutbox, django_capture_on_commit_callbacks
):
    edition, _taken, (anouk, _pieter, _sanne) = full
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form_data(client.get(url), "edition_form", capacity="2"))
    assert response.status_code == 302
    assert offered_to(edition) == ["Anouk"]
    assert [m.to for m in mailoutbox] == [[anouk.email]]
    assert "1 plaats(en) per e-mail aangeboden" in " ".join(page_messages(response))


def test_the_maximum_cannot_go_below_the_places_held_by_offers(full, client, staff_member):
    edition, _taken, _waiting = full
    edition.capacity = 3
    edition.save()
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    response = client.post(url, form_data(client.get(url), "edition_form", capacity="2"))
    assert response.status_code == 200
    assert "2 plaats(en) aangeboden aan de wachtlijst" in response.content.decode()
    assert Edition.objects.get(pk=edition.pk).capacity == 3


def test_with_automatic_offers_off_staff_confirm_by_hand_until_switched_on(full):
    edition, taken, (anouk, pieter, _sanne) = full
    edition.waiting_list_offers = False
    edition.save()
    taken.cancel()
    assert WaitingListOffer.objects.count() == 0
    assert Registration.objects.places_left(edition) == 1
    anouk.confirm_from_waiting_list()
    Registration.objects.get(pk=anouk.pk).cancel()
    assert WaitingListOffer.objects.count() == 0
    # Switched on again: the free place is offered (in the shell, by the job's next run).
    edition.waiting_list_offers = True
    edition.save()
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    assert offered_to(edition) == ["Pieter"]


def test_staff_may_confirm_whoever_holds_an_offer_on_its_place(full):
    edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    anouk.confirm_from_waiting_list()
    offer.refresh_from_db()
    assert offer.state == State.ACCEPTED
    assert Registration.objects.counts(edition) == {"confirmed": 1, "waiting": 2, "offered": 0}


def test_deleting_a_confirmed_registration_offers_its_place(full):
    edition, taken, _waiting = full
    taken.delete()
    assert offered_to(edition) == ["Anouk"]


def test_deleting_in_bulk_offers_the_places_too(full, client, staff_member):
    edition, taken, _waiting = full
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_changelist")
    admin_action(client, url, "delete_selected", [taken], post="yes")
    assert not Registration.objects.filter(pk=taken.pk).exists()
    assert offered_to(edition) == ["Anouk"]


def test_a_registration_does_not_move_to_another_edition(full):
    _edition, taken, _waiting = full
    taken.edition = make_edition(slug="elders")
    with pytest.raises(TransitionRefused, match="verhuist niet"):
        taken.save()


def test_an_offer_never_runs_past_the_start_and_none_is_made_after_it(db, clock):
    start = datetime.date.today() + datetime.timedelta(days=1)
    edition = make_edition(
        capacity=1, start_date=start, end_date=start, registration_deadline=start
    )
    taken = make_registration(edition)
    anouk, pieter = make_registration(edition), make_registration(edition)
    taken.cancel()
    offer = anouk.offers.get()
    assert offer.expires_at == edition.starts_at() < NOW + datetime.timedelta(hours=48)
    clock.move_to(edition.starts_at())
    anouk.cancel()
    assert not pieter.offers.exists()
    assert WaitingListOffer.objects.open().count() == 0


def test_the_expiry_job_expires_lapsed_offers_once_and_is_safe_to_run_twice(
    full, clock, mailoutbox, django_capture_on_commit_callbacks
):
    edition, taken, (anouk, pieter, sanne) = full
    taken.cancel()
    dry = io.StringIO()
    call_command("expire_waiting_list_offers", "--dry-run", stdout=dry)
    assert "0 aanbieding(en) verlopen" in dry.getvalue()
    clock.move_to(NOW + datetime.timedelta(hours=48, seconds=1))
    first, second = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("expire_waiting_list_offers", stdout=first)
        call_command("expire_waiting_list_offers", stdout=second)
    assert "1 aanbieding(en) verlopen, 1 nieuwe aanbieding(en) verstuurd" in first.getvalue()
    assert "0 aanbieding(en) verlopen, 0 nieuwe aanbieding(en) verstuurd" in second.getvalue()
    assert Counter(WaitingListOffer.objects.values_list("state", flat=True)) == {
        State.EXPIRED: 1,
        State.OPEN: 1,
    }
    assert offered_to(edition) == ["Pieter"]
    assert [m.to for m in mailoutbox] == [[pieter.email]]
    # Pieter lets it lapse too: Sanne is next; Anouk, who let hers lapse, is not asked again.
    clock.move_to(NOW + datetime.timedelta(hours=96, seconds=2))
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    assert offered_to(edition) == ["Sanne"]
    clock.move_to(NOW + datetime.timedelta(hours=144, seconds=3))
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    assert open_offers(edition) == []
    assert Registration.objects.waiting().filter(edition=edition).count() == 3


def test_a_late_worker_does_not_mail_an_offer_that_closed(full, settings, mailoutbox):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    anouk.cancel()
    assert send_waiting_list_offer_email.call(offer.pk) == {"offer": "closed before it was sent"}
    assert mailoutbox == []


@pytest.mark.parametrize(
    "state, text",
    [
        ("open", "Dit aanbod is geldig tot"),
        ("accepted", "Je hebt dit aanbod aangenomen"),
        ("declined", "Je hebt dit aanbod afgewezen"),
        ("expired", "Dit aanbod is verlopen"),
        ("withdrawn", "Dit aanbod geldt niet meer"),
    ],
)
def test_the_offer_page_says_its_state_in_dutch(full, client, clock, state, text):
    _edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    if state == "accepted":
        offer.accept()
    elif state == "declined":
        offer.decline()
    elif state == "expired":
        clock.move_to(offer.expires_at)
    elif state == "withdrawn":
        anouk.cancel()
    html = client.get(offer.get_absolute_url()).content.decode()
    assert text in html
    assert ("Ja, ik neem de plaats aan" in html) == (state == "open")
    if state == "open":
        expires = day(timezone.localtime(offer.expires_at), weekday=True)
        assert f"Dit aanbod is geldig tot {expires}, 10:00 uur." in html


def test_the_offer_answers_only_post_and_an_unknown_token_is_404(full, client):
    _edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    accept = reverse("registrations:accept_offer", args=[offer.token])
    assert client.get(accept).status_code == 405
    assert client.post(reverse("registrations:offer", args=["niet-bestaand"])).status_code == 405
    assert client.get(reverse("registrations:offer", args=["niet-bestaand"])).status_code == 404
    assert refreshed(anouk)[0].status == Status.WAITING


def test_staff_see_every_offer_filtered_by_state_and_on_the_registration(
    full, client, staff_member, finance_user
):
    edition, taken, (anouk, _pieter, _sanne) = full
    taken.cancel()
    client.force_login(staff_member)
    url = reverse("admin:registrations_waitinglistoffer_changelist")
    listed = client.get(url, {"stand": "open"})
    assert listed.status_code == 200
    assert list(listed.context["cl"].queryset) == open_offers(edition)
    assert list(client.get(url, {"stand": "expired"}).context["cl"].queryset) == []
    change = client.get(reverse("admin:registrations_registration_change", args=[anouk.pk]))
    assert "wachtlijstaanbiedingen" in change.content.decode().lower()
    assert "uitstaand" in change.content.decode()
    # Finance sees the registration, not the offers.
    client.force_login(finance_user)
    change = client.get(reverse("admin:registrations_registration_change", args=[anouk.pk]))
    assert "uitstaand" not in change.content.decode()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_people_accepting_at_the_same_moment_for_one_place_confirm_one(postgres, mailoutbox):
    edition = make_edition(capacity=1)
    make_registration(edition)
    anouk, pieter = make_registration(edition), make_registration(edition)
    edition.capacity = 3
    edition.save()
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    offers = [anouk.offers.get(), pieter.offers.get()]
    # More offers than places, as after a maximum lowered outside the admin.
    Edition.objects.filter(pk=edition.pk).update(capacity=2)
    mailoutbox.clear()

    results = post_in_parallel(
        lambda n: reverse("registrations:accept_offer", args=[offers[n].token]),
        lambda n: {},
        2,
    )

    assert sorted(results) == [302, 302]
    statuses = Counter(
        Registration.objects.filter(pk__in=[anouk.pk, pieter.pk]).values_list("status", flat=True)
    )
    assert statuses == {Status.CONFIRMED: 1, Status.WAITING: 1}
    assert Registration.objects.confirmed().filter(edition=edition).count() == 2
    states = Counter(WaitingListOffer.objects.values_list("state", flat=True))
    assert states == {State.ACCEPTED: 1, State.WITHDRAWN: 1}
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_one_offer_accepted_twice_at_the_same_moment_confirms_once(postgres, mailoutbox):
    edition = make_edition(capacity=1)
    taken = make_registration(edition)
    anouk = make_registration(edition)
    taken.cancel()
    offer = anouk.offers.get()
    mailoutbox.clear()

    url = reverse("registrations:accept_offer", args=[offer.token])
    results = post_in_parallel(url, lambda n: {}, 2)

    assert results == [302, 302]
    anouk.refresh_from_db()
    assert anouk.status == Status.CONFIRMED
    assert WaitingListOffer.objects.get().state == State.ACCEPTED
    assert [m.to for m in mailoutbox] == [[anouk.email]]


def test_the_personal_page_of_someone_holding_an_offer_links_to_it(full, client):
    _edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    offer = anouk.offers.get()
    assert offer.get_absolute_url() in client.get(anouk.get_absolute_url()).text
    assert "Bekijk het aanbod" not in client.get(pieter.get_absolute_url()).text


def test_staff_hear_of_a_cancellation_that_the_place_is_offered_by_itself(
    full, mailoutbox, settings, django_capture_on_commit_callbacks
):
    edition, taken, _waiting = full
    with django_capture_on_commit_callbacks(execute=True):
        taken.cancel()
        send_cancellation_emails.enqueue(taken.pk)
    to_staff = [m for m in mailoutbox if m.to == [settings.STAFF_NOTIFICATION_EMAIL]]
    assert "vanzelf per e-mail aangeboden" in to_staff[0].body


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_offer_made_in_the_shell_is_queued_by_the_job_and_sent_by_the_worker(
    settings, mailoutbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition = make_edition(capacity=1)
    taken = make_registration(edition)
    anouk = make_registration(edition)
    # A cancellation rolled back leaves neither an offer nor its mail behind.
    with pytest.raises(RuntimeError), transaction.atomic():
        Registration.objects.get(pk=taken.pk).cancel()
        raise RuntimeError
    assert (WaitingListOffer.objects.count(), DBTaskResult.objects.count()) == (0, 0)

    Registration.objects.get(pk=taken.pk).cancel()  # as in the shell: no view queues mail
    assert (WaitingListOffer.objects.count(), DBTaskResult.objects.count()) == (1, 0)
    # The job queues the offer's mail once, however often it runs before the worker does.
    call_command("expire_waiting_list_offers", stdout=io.StringIO())
    call_command("expire_waiting_list_offers", stdout=io.StringIO())

    queued = DBTaskResult.objects.get()
    assert queued.task_path == "registrations.tasks.send_waiting_list_offer_email"
    assert mailoutbox == []
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())
    queued.refresh_from_db()
    assert queued.status == "SUCCESSFUL"
    assert [m.to for m in mailoutbox] == [[anouk.email]]
    assert anouk.offers.get().emailed_at is not None


def test_the_places_count_a_persons_open_offer_once_beside_the_offers_that_closed(full, clock):
    edition, taken, (anouk, pieter, _sanne) = full
    taken.cancel()
    WaitingListOffer.objects.offer_free_places(edition)
    anouk.offers.get().decline()
    WaitingListOffer.objects.offer_free_places(edition)
    pieter.offers.get().expire(NOW + datetime.timedelta(hours=49))
    # Anouk's second chance: an open offer beside her declined one.
    WaitingListOffer.objects.create(
        registration=anouk, offered_at=NOW, expires_at=NOW + datetime.timedelta(hours=48)
    )
    assert anouk.offers.count() == 2 and pieter.offers.count() == 1
    # Anouk declined her first offer, so she no longer waits; Pieter's expired.
    counts = Registration.objects.counts(edition)
    assert counts == {"confirmed": 0, "waiting": 2, "offered": 1}
    assert Registration.objects.places_left(edition) == 0
