"""A worker's copy of a workshop page is never stale: every change of what the page shows, by
any path (admin, shell, queryset updates, sign-up, offers, the clock), shows on the next
request. Each test runs twice: with the page versions in the database (no Redis), and in the
shared cache (as with Redis; here Django's local-memory cache stands in for it, and
tests/test_two_servers.py runs real Redis across two gunicorn servers).

A test first asks for the page, so that the worker keeps a copy, then changes something, and
asks again.
"""

import datetime
from contextlib import contextmanager

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from programme.models import Contact, Edition, PageVersion, Section, Session
from programme.pages import Pages
from programme.views import _render_edition
from registrations.models import Registration, WaitingListOffer
from tests.conftest import form_data, make_edition, make_registration, sign_up_data

FULL = "Alle plaatsen zijn bezet"


@pytest.fixture(params=["database", "cache"])
def versions(request, settings, django_capture_on_commit_callbacks):
    """Where the page versions live; returns a context manager for one change, which runs what
    the change leaves for after its commit (the cache is written then)."""
    settings.PAGE_VERSIONS_IN_CACHE = request.param == "cache"

    @contextmanager
    def change():
        with django_capture_on_commit_callbacks(execute=True):
            yield

    return change


@pytest.fixture
def edition(db, versions):
    return make_edition(capacity=2)


def page(client, edition):
    response = client.get(edition.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def kept(client, edition):
    """The page, asked for twice: the second answer comes from the worker's copy."""
    page(client, edition)
    return page(client, edition)


def test_a_kept_page_costs_one_query_without_redis_and_none_with_it(
    client, edition, versions, settings
):
    page(client, edition)
    with CaptureQueriesContext(connection) as queries:
        page(client, edition)
    assert len(queries) == (0 if settings.PAGE_VERSIONS_IN_CACHE else 1)


def test_saving_the_edition_in_the_admin_shows_at_once(client, edition, versions, staff_member):
    assert "Kaap Doorn" in kept(client, edition)
    staff = Client()
    staff.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    with versions():
        response = staff.post(
            url, form_data(staff.get(url), "edition_form", venue_name="De Reehorst")
        )
    assert response.status_code == 302
    assert "De Reehorst" in page(client, edition)


def test_an_inline_saved_in_the_admin_shows_at_once(client, edition_2022, versions, staff_member):
    assert "Nieuwe kop" not in kept(client, edition_2022)
    staff = Client()
    staff.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition_2022.pk])
    first = edition_2022.sections.first()
    data = form_data(staff.get(url), "edition_form")
    assert data["sections-0-id"] == [str(first.pk)]
    data["sections-0-heading"] = ["Nieuwe kop"]
    with versions():
        response = staff.post(url, data)
    assert response.status_code == 302
    assert "Nieuwe kop" in page(client, edition_2022)


@pytest.mark.parametrize(
    "change, shows",
    [
        (
            lambda e: Section.objects.create(edition=e, heading="Extra blok", body="Tekst"),
            "Extra blok",
        ),
        (lambda e: e.contacts.update(name="Noor"), "Noor"),
        (
            lambda e: Contact.objects.bulk_create(
                [Contact(edition=e, name="Sem", topic="inhoud", phone="030 1234567")]
            ),
            "Sem",
        ),
        (
            lambda e: Session.objects.create(edition=e, title="Slotreflectie", kind="reflectie"),
            "Slotreflectie",
        ),
        (lambda e: Edition.objects.filter(pk=e.pk).update(venue_city="Utrecht"), "Utrecht"),
    ],
    ids=["section-created", "contacts-updated", "bulk-created", "session-created", "edition"],
)
def test_a_change_in_the_shell_shows_at_once(client, edition, versions, change, shows):
    assert shows not in kept(client, edition)
    with versions():
        change(edition)
    assert shows in page(client, edition)


def test_a_contact_deleted_in_the_shell_goes_at_once(client, edition, versions):
    assert "Romy" in kept(client, edition)
    with versions():
        edition.contacts.all().delete()
    assert "Romy" not in page(client, edition)


def test_unpublishing_with_a_queryset_update_takes_the_page_down_at_once(client, edition, versions):
    kept(client, edition)
    with versions():
        Edition.objects.filter(pk=edition.pk).update(is_published=False)
    assert client.get(edition.get_absolute_url()).status_code == 404
    assert client.get(reverse("programme:home")).status_code == 404


def test_the_home_page_moves_to_a_newly_published_earlier_edition(client, edition, versions):
    home = reverse("programme:home")
    assert client.get(home).status_code == client.get(home).status_code == 200
    earlier = make_edition(
        title="Eerdere werkplaats",
        start_date=edition.start_date - datetime.timedelta(days=30),
        end_date=edition.start_date - datetime.timedelta(days=28),
        registration_deadline=edition.start_date - datetime.timedelta(days=60),
        is_published=False,
    )
    assert "Eerdere werkplaats" not in client.get(home).content.decode()
    with versions():
        earlier.is_published = True
        earlier.save()
    assert "Eerdere werkplaats" in client.get(home).content.decode()


def test_the_last_place_taken_and_freed_shows_at_once(client, edition, versions):
    make_registration(edition)
    assert FULL not in kept(client, edition)
    with versions():
        last = make_registration(edition)
    assert FULL in page(client, edition)
    with versions():
        last.cancel()
    assert FULL not in page(client, edition)


def test_a_sign_up_through_the_form_shows_at_once(client, edition, versions):
    make_registration(edition)
    assert FULL not in kept(client, edition)
    url = reverse("registrations:register", args=[edition.slug])
    with versions():
        assert client.post(url, sign_up_data()).status_code == 302
    assert FULL in page(client, edition)


def test_an_offer_holds_the_place_and_its_end_shows_at_once(client, versions, db):
    edition = make_edition(capacity=1)
    taken = make_registration(edition)
    waiting = make_registration(edition)
    assert FULL in kept(client, edition)
    with versions():
        taken.cancel()
    # The freed place is offered to the one waiting: it is held, the page still says full.
    (offer,) = WaitingListOffer.objects.filter(registration=waiting)
    assert FULL in page(client, edition)
    with versions():
        offer.decline()
    assert FULL not in page(client, edition)


def test_an_offer_made_or_deleted_in_the_shell_shows_at_once(client, versions, db):
    edition = make_edition(capacity=2)
    make_registration(edition)
    waiting = make_registration(edition)
    Registration.objects.filter(pk=waiting.pk).update(
        status=Registration.Status.WAITING, waiting_since=timezone.now()
    )
    assert FULL not in kept(client, edition)
    with versions():
        offer = WaitingListOffer.objects.create(
            registration=waiting, expires_at=timezone.now() + datetime.timedelta(days=1)
        )
    assert FULL in page(client, edition)
    with versions():
        offer.delete()
    assert FULL not in page(client, edition)


def test_a_status_changed_by_a_queryset_update_shows_at_once(client, edition, versions):
    one, two = make_registration(edition), make_registration(edition)
    assert FULL in kept(client, edition)
    with versions():
        Registration.objects.filter(pk=two.pk).update(
            status=Registration.Status.CANCELLED, cancelled_at=timezone.now()
        )
    assert FULL not in page(client, edition)
    assert one.status == Registration.Status.CONFIRMED


def test_deleting_a_registration_shows_at_once(client, edition, versions):
    make_registration(edition)
    last = make_registration(edition)
    assert FULL in kept(client, edition)
    with versions():
        Registration.objects.filter(pk=last.pk).delete()
    assert FULL not in page(client, edition)


def test_a_raised_maximum_shows_at_once(client, edition, versions):
    make_registration(edition)
    make_registration(edition)
    assert FULL in kept(client, edition)
    with versions():
        edition.capacity = 3
        edition.save()
    assert FULL not in page(client, edition)


def test_registration_closes_at_midnight_to_the_second(client, versions, db):
    edition = make_edition()
    deadline_ends = timezone.make_aware(
        datetime.datetime.combine(edition.registration_deadline, datetime.time(23, 59, 59))
    )
    with time_machine.travel(deadline_ends, tick=False):
        assert "Open tot en met" in kept(client, edition)
    with time_machine.travel(deadline_ends + datetime.timedelta(seconds=1), tick=False):
        assert "De inschrijving is gesloten" in page(client, edition)


def test_an_edition_that_ended_says_so_the_next_day(client, versions, db):
    edition = make_edition()
    last_day = timezone.make_aware(
        datetime.datetime.combine(edition.end_date, datetime.time(23, 59))
    )
    with time_machine.travel(last_day, tick=False):
        assert "heeft plaatsgevonden" not in kept(client, edition)
    with time_machine.travel(last_day + datetime.timedelta(minutes=1), tick=False):
        assert "heeft plaatsgevonden" in page(client, edition)


def test_a_migration_starts_every_copy_afresh(client, edition, versions):
    kept(client, edition)
    # What a data migration does with its historical models: a change no receiver hears.
    QuerySet.update(Edition.objects.filter(pk=edition.pk), venue_city="Amersfoort")
    assert "Amersfoort" not in page(client, edition)
    with versions():
        call_command("migrate", "programme", verbosity=0)
    assert "Amersfoort" in page(client, edition)


def test_another_worker_sees_the_same_change(client, edition, versions, rf):
    other = Pages()
    request = rf.get(edition.get_absolute_url())
    request.csp_nonce = "n"

    def on_other():
        return other.edition(request, edition.slug, timezone.now(), _render_edition).content

    assert b"Kaap Doorn" in on_other() and b"Kaap Doorn" in kept(client, edition).encode()
    with versions():
        Section.objects.filter(edition=edition).delete()
        Edition.objects.filter(pk=edition.pk).update(venue_name="De Reehorst")
    assert b"De Reehorst" in on_other()
    assert "De Reehorst" in page(client, edition)


def test_a_missing_version_row_means_no_copy_is_kept(client, settings, db):
    # Without Redis the row holds the content version; a flushed database has none.
    settings.PAGE_VERSIONS_IN_CACHE = False
    edition = make_edition()
    PageVersion.objects.all().delete()
    page(client, edition)
    QuerySet.update(Edition.objects.filter(pk=edition.pk), venue_city="Amersfoort")
    assert "Amersfoort" in page(client, edition)
    PageVersion.content_changed()
    assert PageVersion.objects.count() == 1
