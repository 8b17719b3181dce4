"""Editions in the back office: duplicating into a draft, counts, and who may open the pages."""

import datetime

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from programme.models import Contact, Day, Edition, Section, Session
from registrations.models import Registration
from tests.conftest import make_edition, make_registration

CHANGELIST = reverse("admin:programme_edition_changelist")


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("beheer", "beheer@platform31.example.nl", "x" * 20)


def test_duplicate_copies_content_sections_contacts_days_and_sessions(edition_2022):
    day = edition_2022.days.get(date=datetime.date(2022, 11, 22))
    edition_2022.sessions.create(
        day=day, start_time=datetime.time(10), kind="theorie", title="Op dag twee"
    )
    copy = edition_2022.duplicate(weeks=52)

    assert copy.pk != edition_2022.pk
    for field in [
        "title",
        "organisers",
        "intro",
        "daily_start_time",
        "daily_end_time",
        "venue_name",
        "venue_city",
        "price_excl_vat",
        "price_includes",
        "vat_rate",
        "capacity",
        "terms",
    ]:
        assert getattr(copy, field) == getattr(edition_2022, field), field
    assert [(s.order, s.heading, s.body) for s in copy.sections.all()] == [
        (s.order, s.heading, s.body) for s in edition_2022.sections.all()
    ]
    assert [(c.name, c.topic, c.phone, c.is_practical_contact) for c in copy.contacts.all()] == [
        (c.name, c.topic, c.phone, c.is_practical_contact) for c in edition_2022.contacts.all()
    ]
    assert [(s.kind, s.title, s.description) for s in copy.sessions.all()] == [
        (s.kind, s.title, s.description) for s in edition_2022.sessions.all()
    ]
    # The copied session hangs on the copy's own day, not on the original's.
    moved = copy.sessions.get(title="Op dag twee")
    assert moved.day.edition == copy
    assert moved.day.date == datetime.date(2023, 11, 21)
    # The original keeps all of its own rows.
    assert edition_2022.sections.count() == 8
    assert edition_2022.contacts.count() == 3
    assert edition_2022.days.count() == 3
    assert edition_2022.sessions.count() == 7
    assert Section.objects.count() == 16
    assert Contact.objects.count() == 6
    assert Day.objects.count() == 6
    assert Session.objects.count() == 14


def test_duplicate_is_an_unpublished_draft_with_its_own_slug(edition_2022):
    copy = edition_2022.duplicate(weeks=52)
    assert copy.is_published is False
    assert copy.slug != edition_2022.slug
    assert copy.slug == "werkplaats-werken-aan-wijkontwikkeling-2023"
    again = edition_2022.duplicate(weeks=52)
    assert again.slug == "werkplaats-werken-aan-wijkontwikkeling-2023-2"
    assert edition_2022.registrations.count() == 0
    edition_2022.refresh_from_db()
    assert edition_2022.is_published is True


def test_duplicate_shifts_every_date_by_whole_weeks_keeping_weekdays(edition_2022):
    copy = edition_2022.duplicate(weeks=52)
    assert copy.start_date == datetime.date(2023, 11, 20)
    assert copy.end_date == datetime.date(2023, 11, 22)
    assert copy.registration_deadline == datetime.date(2023, 9, 15)
    assert copy.start_date.weekday() == edition_2022.start_date.weekday() == 0  # Monday
    assert copy.end_date.weekday() == edition_2022.end_date.weekday()
    assert copy.registration_deadline.weekday() == edition_2022.registration_deadline.weekday()
    assert [d.date.weekday() for d in copy.days.all()] == [0, 1, 2]


def test_duplicate_does_not_copy_registrations(edition_2022):
    make_registration(edition_2022)
    copy = edition_2022.duplicate(weeks=52)
    assert copy.registrations.count() == 0
    assert Registration.objects.count() == 1


def test_admin_duplicate_action_makes_a_future_draft_on_the_same_weekdays(
    client, staff_member, edition_2022
):
    client.force_login(staff_member)
    response = client.post(
        CHANGELIST,
        {"action": "duplicate_editions", "_selected_action": [edition_2022.pk]},
        follow=True,
    )
    assert response.status_code == 200
    copy = Edition.objects.exclude(pk=edition_2022.pk).get()
    assert copy.is_published is False
    assert copy.start_date > datetime.date.today()
    assert (copy.start_date - edition_2022.start_date).days % 7 == 0
    assert copy.start_date.weekday() == 0
    assert copy.sections.count() == 8
    assert copy.contacts.count() == 3
    assert copy.sessions.count() == 6
    assert "Concept aangemaakt" in response.content.decode()


def test_finance_cannot_duplicate_editions(client, finance_user, edition_2022):
    client.force_login(finance_user)
    client.post(CHANGELIST, {"action": "duplicate_editions", "_selected_action": [edition_2022.pk]})
    assert Edition.objects.count() == 1


def test_edition_admin_shows_registration_counts_and_places_left(client, staff_member, db):
    edition = make_edition(capacity=5)
    make_registration(edition)
    make_registration(edition)
    make_registration(edition, status=Registration.Status.WAITING)
    make_registration(edition, status=Registration.Status.CANCELLED)
    client.force_login(staff_member)

    changelist = client.get(CHANGELIST)
    row = next(r for r in changelist.context["cl"].result_list if r.pk == edition.pk)
    admin = changelist.context["cl"].model_admin
    assert admin.confirmed_count(row) == 2
    assert admin.waiting_count(row) == 1
    assert admin.cancelled_count(row) == 1
    assert admin.places_left(row) == 3
    html = changelist.content.decode()
    for heading in ["bevestigd", "wachtlijst", "geannuleerd", "plaatsen vrij"]:
        assert heading in html.lower()

    change = client.get(reverse("admin:programme_edition_change", args=[edition.pk]))
    html = change.content.decode()
    assert '<div class="readonly">2</div>' in html
    assert '<div class="readonly">1</div>' in html
    assert '<div class="readonly">3</div>' in html


def test_edition_without_capacity_has_unlimited_places(client, staff_member, db):
    edition = make_edition(capacity=None)
    make_registration(edition)
    client.force_login(staff_member)
    changelist = client.get(CHANGELIST)
    row = next(r for r in changelist.context["cl"].result_list if r.pk == edition.pk)
    assert changelist.context["cl"].model_admin.places_left(row) == "onbeperkt"


def _edition_admin_urls(edition):
    return [
        reverse("admin:index"),
        CHANGELIST,
        reverse("admin:programme_edition_add"),
        reverse("admin:programme_edition_change", args=[edition.pk]),
        reverse("admin:registrations_registration_changelist"),
    ]


def test_admin_pages_load_for_a_superuser(client, superuser, edition_2022):
    client.force_login(superuser)
    for url in _edition_admin_urls(edition_2022):
        assert client.get(url).status_code == 200, url


def test_admin_pages_load_for_medewerkers(client, staff_member, edition_2022):
    client.force_login(staff_member)
    for url in _edition_admin_urls(edition_2022):
        assert client.get(url).status_code == 200, url
    change = client.get(reverse("admin:programme_edition_change", args=[edition_2022.pk]))
    html = change.content.decode()
    # The inlines staff edit the page with.
    for prefix in ["sections", "contacts", "days", "sessions"]:
        assert f'name="{prefix}-TOTAL_FORMS"' in html
    assert "Waar je wieg staat, doet ertoe" in html
    assert 'name="_save"' in html


def test_admin_pages_redirect_anonymous_users_to_login(client, edition_2022):
    login = reverse("admin:login")
    for url in _edition_admin_urls(edition_2022):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), url


def test_anonymous_post_to_the_duplicate_action_changes_nothing(client, edition_2022):
    response = client.post(
        CHANGELIST, {"action": "duplicate_editions", "_selected_action": [edition_2022.pk]}
    )
    assert response.status_code == 302
    assert Edition.objects.count() == 1
