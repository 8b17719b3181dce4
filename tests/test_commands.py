"""Management commands: the seed, the demo edition, the local admin and anonymisation."""

import datetime
import io
import re

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from programme import seed
from programme.models import Contact, Day, Edition, Section, Session
from registrations.models import Registration
from tests.conftest import make_edition, make_registration


def run(*args, **options):
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def row_counts():
    return {
        model.__name__: model.objects.count() for model in (Edition, Section, Contact, Day, Session)
    }


# load_seed


def test_load_seed_loads_the_2022_edition_as_published(db):
    output = run("load_seed")
    edition = Edition.objects.get(slug=seed.SLUG_2022)
    assert "geladen" in output
    assert edition.is_published
    assert (edition.start_date, edition.end_date) == (
        datetime.date(2022, 11, 21),
        datetime.date(2022, 11, 23),
    )
    assert edition.registration_deadline == datetime.date(2022, 9, 16)
    assert str(edition.price_excl_vat) == "1800.00"
    assert row_counts() == {"Edition": 1, "Section": 8, "Contact": 3, "Day": 3, "Session": 6}


def test_load_seed_twice_gives_the_same_rows(db):
    run("load_seed")
    before = row_counts()
    pks = set(Section.objects.values_list("pk", flat=True))
    output = run("load_seed")
    assert "niets gewijzigd" in output
    assert row_counts() == before
    assert set(Section.objects.values_list("pk", flat=True)) == pks


def test_load_seed_keeps_staff_edits_unless_reset(db):
    run("load_seed")
    edition = Edition.objects.get(slug=seed.SLUG_2022)
    section = edition.sections.get(heading="Voor wie?")
    section.body = "Door een medewerker aangepast."
    section.save()
    edition.venue_city = "Utrecht"
    edition.save()
    edition.contacts.filter(name="Imke").delete()

    run("load_seed")
    section.refresh_from_db()
    assert section.body == "Door een medewerker aangepast."

    output = run("load_seed", reset=True)
    assert "teruggezet" in output
    edition.refresh_from_db()
    assert edition.venue_city == "Doorn"
    assert edition.sections.get(heading="Voor wie?").body == dict(seed.SECTIONS_2022)["Voor wie?"]
    assert list(edition.contacts.values_list("name", flat=True)) == ["Cisca", "Imke", "Romy"]
    assert row_counts() == {"Edition": 1, "Section": 8, "Contact": 3, "Day": 3, "Session": 6}


def test_load_seed_reset_keeps_the_edition_and_its_registrations(db):
    run("load_seed")
    edition = Edition.objects.get(slug=seed.SLUG_2022)
    registration = make_registration(edition)
    run("load_seed", reset=True)
    registration.refresh_from_db()
    assert registration.edition_id == edition.pk
    assert Edition.objects.get().pk == edition.pk


def test_load_seed_dry_run_stores_nothing(db):
    output = run("load_seed", dry_run=True)
    assert "Dry run" in output
    assert Edition.objects.count() == 0


# load_demo_edition


def test_load_demo_edition_refuses_without_debug(settings, db):
    settings.DEBUG = False
    run("load_seed")
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        run("load_demo_edition")
    assert not Edition.objects.filter(is_demo=True).exists()


def test_load_demo_edition_needs_the_seed_first(settings, db):
    settings.DEBUG = True
    with pytest.raises(CommandError, match="load_seed"):
        run("load_demo_edition")
    assert Edition.objects.count() == 0


def test_load_demo_edition_adds_a_marked_edition_a_year_or_more_ahead(settings, client, db):
    settings.DEBUG = True
    run("load_seed")
    output = run("load_demo_edition")
    demo = Edition.objects.get(is_demo=True)
    assert "Demo-editie toegevoegd" in output
    assert demo.is_published
    assert demo.title.startswith("DEMO")
    today = timezone.localdate()
    assert demo.start_date >= today + datetime.timedelta(days=365)
    assert demo.start_date.weekday() == datetime.date(2022, 11, 21).weekday()
    assert demo.registration_is_open()
    assert demo.sections.count() == 8
    assert demo.contacts.count() == 3

    # The home page now shows the demo, clearly marked, with an open sign-up.
    html = client.get("/").content.decode()
    assert "Demo-editie om het inschrijven uit te proberen" in html
    assert f"/werkplaats/{demo.slug}/inschrijven/" in html


def test_load_demo_edition_twice_adds_one_demo(settings, db):
    settings.DEBUG = True
    run("load_seed")
    run("load_demo_edition")
    output = run("load_demo_edition")
    assert "bestaat al" in output
    assert Edition.objects.filter(is_demo=True).count() == 1
    assert Edition.objects.count() == 2


def test_load_demo_edition_dry_run_stores_nothing(settings, db):
    settings.DEBUG = True
    run("load_seed")
    run("load_demo_edition", dry_run=True)
    assert Edition.objects.count() == 1


# create_local_admin


def test_create_local_admin_refuses_without_debug(settings, db):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        run("create_local_admin")
    assert not User.objects.exists()


def test_create_local_admin_creates_a_superuser_once_and_prints_the_password(settings, db):
    settings.DEBUG = True
    output = run("create_local_admin")
    password = re.search(r"wachtwoord:\s+(\S+)", output)[1]
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(password)
    assert "/beheer/" in output

    output = run("create_local_admin")
    assert "bestaat al" in output
    assert password not in output
    assert User.objects.count() == 1
    admin.refresh_from_db()
    assert admin.check_password(password)


# anonymise_registrations


@pytest.fixture
def old_and_recent(db):
    today = timezone.localdate()
    old = make_edition(
        slug="oud",
        start_date=today - datetime.timedelta(days=500),
        end_date=today - datetime.timedelta(days=498),
        registration_deadline=today - datetime.timedelta(days=560),
    )
    recent = make_edition(slug="recent")
    old_registration = make_registration(
        old,
        dietary_needs="glutenvrij",
        accessibility_needs="rolstoel",
        own_case="Onze wijk",
        vat_id="NL000099998B57",
    )
    recent_registration = make_registration(recent, dietary_needs="vegan")
    return old_registration, recent_registration


def test_anonymise_dry_run_changes_nothing(old_and_recent):
    old, recent = old_and_recent
    before = list(Registration.objects.order_by("pk").values())
    output = run("anonymise_registrations", dry_run=True)
    assert "Dry run: 1 inschrijving(en)" in output
    assert list(Registration.objects.order_by("pk").values()) == before


def test_anonymise_erases_personal_fields_of_old_editions_only(old_and_recent):
    old, recent = old_and_recent
    recent_before = Registration.objects.filter(pk=recent.pk).values().get()
    output = run("anonymise_registrations")
    assert "1 inschrijving(en) geanonimiseerd" in output

    old.refresh_from_db()
    assert old.first_name == "Geanonimiseerd"
    assert old.last_name == ""
    assert old.email == f"geanonimiseerd-{old.pk}@invalid"
    assert old.phone == ""
    assert old.own_case == ""
    assert old.dietary_needs == ""
    assert old.accessibility_needs == ""
    assert old.invoice_street == ""
    assert old.invoice_email == "geanonimiseerd@invalid"
    assert old.vat_id == ""
    assert old.anonymised_at is not None
    # Kept for statistics.
    assert old.organisation == "Gemeente Utrecht"
    assert old.sector == "gemeente"
    assert old.status == Registration.Status.CONFIRMED

    assert Registration.objects.filter(pk=recent.pk).values().get() == recent_before


def test_anonymise_twice_does_nothing_the_second_time(old_and_recent):
    run("anonymise_registrations")
    output = run("anonymise_registrations")
    assert "0 inschrijving(en) geanonimiseerd" in output


def test_anonymise_respects_the_retention_period(old_and_recent):
    old, recent = old_and_recent
    # The old edition ended ~16 months ago: a 24-month retention keeps it.
    run("anonymise_registrations", months=24)
    old.refresh_from_db()
    assert old.anonymised_at is None
    run("anonymise_registrations", months=12)
    old.refresh_from_db()
    assert old.anonymised_at is not None
