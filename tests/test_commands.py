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
from tests.conftest import make_registration


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
