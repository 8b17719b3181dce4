"""Accreditation points: registers per edition, attendance per day part on the check-in page,
the registration number on the personal page (checked), the points on the certificate but
not on the public verification page, the register's export, and the numbers' retention."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from registrations.accesslog.models import AccessLogEntry
from registrations.accreditation.models import (
    CertificatePoints,
    Entry,
    NumberFormat,
    Register,
)
from registrations.accreditation.retention import erase_numbers
from registrations.attendance.models import Attendance, Certificate, Part, edition_days
from registrations.models import Registration
from tests.conftest import (
    admin_action,
    make_edition,
    make_ended_edition,
    make_registration,
    pdf_text,
    sign_up_data,
)

REGISTRATIONS = reverse("admin:registrations_registration_changelist")
NUMBER = "4610123456"


def checkin_url(edition):
    return reverse("admin:programme_edition_checkin", args=[edition.pk])


def export_url(register):
    return reverse("admin:accreditation_register_export", args=[register.pk])


def exported(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def numbers_url(registration):
    return reverse("accreditation:numbers", args=[registration.token])


def make_register(edition, **overrides):
    fields = {
        "name": "Registerplein",
        "accreditation_id": "RP-2030-0815",
        "points": Decimal("18"),
        "hours_per_part": Decimal("3"),
        "rule": Register.Rule.PER_PART,
        "number_format": NumberFormat.REGISTERPLEIN,
    }
    fields.update(overrides)
    return Register.objects.create(edition=edition, **fields)


@pytest.fixture
def edition(db):
    return make_ended_edition()


@pytest.fixture
def registerplein(edition):
    return make_register(edition)


@pytest.fixture
def social_worker(edition, registerplein):
    """Sanne, a social worker in Registerplein, who gave her number."""
    registration = make_registration(edition, first_name="Sanne", last_name="de Vries")
    Entry.objects.create(registration=registration, register=registerplein, number=NUMBER)
    return registration


def test_a_social_worker_gets_the_points_of_the_day_parts_she_attended_on_her_certificate(
    client, staff_member, edition, registerplein, social_worker
):
    first, second, _third = edition_days(edition)
    client.force_login(staff_member)
    ticked = [
        f"{social_worker.pk}:{first}:ochtend",
        f"{social_worker.pk}:{first}:middag",
        f"{social_worker.pk}:{second}:ochtend",
    ]
    assert client.post(checkin_url(edition), {"present": ticked}).status_code == 302
    # Three day parts of six: half the 18 points, three times 3 net hours.
    assert Attendance.objects.filter(registration=social_worker).count() == 6
    assert Attendance.objects.present().filter(registration=social_worker).count() == 3

    response = admin_action(client, REGISTRATIONS, "send_certificates", [social_worker], apply="1")
    assert response.status_code == 302
    certificate = Certificate.objects.get(registration=social_worker)
    assert certificate.days_attended == 2
    points = CertificatePoints.objects.get(certificate=certificate)
    assert (points.register_name, points.accreditation_id) == ("Registerplein", "RP-2030-0815")
    assert (points.registration_number, points.points, points.hours) == (
        NUMBER,
        Decimal("9.0"),
        Decimal("9.0"),
    )
    assert (points.parts_attended, points.parts_total) == (3, 6)

    [message] = mail.outbox
    _name, content, _mimetype = message.attachments[0]
    text = pdf_text(content)
    for expected in ["Registerplein", "RP-2030-0815", NUMBER, "3 van 6", "Punten"]:
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(content)).pages) == 1


def test_points_only_for_all_day_parts_give_nothing_for_a_missed_part(edition, social_worker):
    skj = make_register(
        edition,
        name="SKJ",
        accreditation_id="SKJ-123",
        points=Decimal("12"),
        rule=Register.Rule.ALL_PARTS,
        number_format="",
    )
    days = edition_days(edition)
    everything = {(social_worker.pk, day, part) for day in days for part in Part.values[1:]}
    missed_one = everything - {(social_worker.pk, days[-1], Part.AFTERNOON)}
    Attendance.objects.record(edition, days, missed_one)
    assert skj.points_for(5) == 0
    certificate = Certificate.objects.issue(social_worker)
    lines = {p.register_name: p.points for p in certificate.points.all()}
    assert lines == {"SKJ": Decimal("0"), "Registerplein": Decimal("15.0")}
    Attendance.objects.record(edition, days, everything)
    assert skj.points_for(6) == Decimal("12")


def test_a_day_recorded_whole_counts_both_its_parts(edition, registerplein, social_worker):
    # Checked in before the register was added: whole days.
    Attendance.objects.create(registration=social_worker, date=edition.start_date, present=True)
    certificate = Certificate.objects.issue(social_worker)
    assert certificate.points.get().parts_attended == 2
    assert certificate.points.get().points == Decimal("6.0")


def test_the_register_export_lists_everyone_who_earned_points_in_its_columns(
    client, staff_member, edition, registerplein, social_worker
):
    days = edition_days(edition)
    without_number = make_registration(edition, first_name="Piet", last_name="Bakker")
    absent = make_registration(edition, first_name="Aa", last_name="Afwezig")
    Entry.objects.create(registration=absent, register=registerplein, number="4610999")
    Attendance.objects.record(
        edition,
        days,
        {
            (social_worker.pk, days[0], Part.MORNING),
            (social_worker.pk, days[2], Part.AFTERNOON),
            (without_number.pk, days[0], Part.MORNING),
        },
    )
    client.force_login(staff_member)
    rows = exported(client.get(export_url(registerplein)))
    assert rows[0] == [
        "Registratienummer",
        "Achternaam",
        "Voornaam",
        "Accreditatienummer",
        "Punten",
        "Data aanwezig",
    ]
    dates = f"{days[0]:%d-%m-%Y}, {days[2]:%d-%m-%Y}"
    assert rows[1:] == [[NUMBER, "de Vries", "Sanne", "RP-2030-0815", "6", dates]]
    # Names and registration numbers left the site: recorded with how many people.
    (entry,) = AccessLogEntry.objects.filter(kind=AccessLogEntry.Kind.EXPORT)
    assert (entry.user, entry.count, entry.edition) == (staff_member, 1, edition)
    assert "Registerplein" in entry.what

    registerplein.export_columns = "registratienummer=BIG/registratienummer, punten, uren"
    registerplein.full_clean()
    registerplein.save()
    rows = exported(client.get(export_url(registerplein)))
    assert rows == [["BIG/registratienummer", "Punten", "Uren"], [NUMBER, "6", "6"]]


def test_an_unknown_export_column_is_refused(registerplein):
    registerplein.export_columns = "registratienummer, schoenmaat"
    with pytest.raises(Exception, match="Onbekende kolom 'schoenmaat'"):
        registerplein.full_clean()


def test_the_export_marks_the_final_assignment_where_the_register_requires_one(
    client, staff_member, edition, registerplein, social_worker
):
    registerplein.final_assignment_required = True
    registerplein.save()
    Attendance.objects.record(
        edition, edition_days(edition), {(social_worker.pk, edition.start_date, Part.MORNING)}
    )
    client.force_login(staff_member)
    rows = exported(client.get(export_url(registerplein)))
    assert rows[0][-1] == "Eindopdracht behaald" and rows[1][-1] == "nee"
    entry = Entry.objects.get(registration=social_worker)
    entries = reverse("admin:accreditation_entry_changelist")
    admin_action(client, entries, "mark_final_assignment_passed", [entry])
    entry.refresh_from_db()
    assert entry.final_assignment_passed
    rows = exported(client.get(export_url(registerplein)))
    assert rows[1][-1] == "ja"


@pytest.mark.parametrize("persona", ["finance_user", "outsider"])
def test_only_staff_export_a_register(client, request, persona, registerplein, social_worker):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(export_url(registerplein)).status_code == 403


def test_the_verification_page_shows_the_points_but_not_the_registration_number(
    client, edition, social_worker
):
    Attendance.objects.record(
        edition, edition_days(edition), {(social_worker.pk, edition.start_date, Part.MORNING)}
    )
    certificate = Certificate.objects.issue(social_worker)
    html = client.get(reverse("attendance:verify", args=[certificate.code])).content.decode()
    assert "Sanne de Vries" in html and "RP-2030-0815" in html
    assert NUMBER not in html
    assert social_worker.email not in html


@pytest.fixture
def upcoming(db):
    edition = make_edition()
    make_register(edition)
    make_register(edition, name="SKJ", accreditation_id="SKJ-1", number_format="")
    return edition


def test_the_participant_gives_her_number_on_her_personal_page(client, upcoming):
    registration = make_registration(upcoming)
    page = client.get(registration.get_absolute_url()).content.decode()
    assert "Registratienummer Registerplein" in page and "Registratienummer SKJ" in page
    registerplein, skj = Register.objects.order_by("name")
    response = client.post(
        numbers_url(registration),
        {f"register_{registerplein.pk}": "4610 1234 56", f"register_{skj.pk}": ""},
    )
    assert response.status_code == 302
    assert dict(Entry.objects.values_list("register__name", "number")) == {"Registerplein": NUMBER}
    # Saved twice: still one entry per register.
    client.post(numbers_url(registration), {f"register_{registerplein.pk}": NUMBER})
    assert Entry.objects.count() == 1


def test_a_bad_registerplein_number_is_refused_in_dutch_and_changes_nothing(client, upcoming):
    registration = make_registration(upcoming)
    registerplein = Register.objects.get(name="Registerplein")
    Entry.objects.create(registration=registration, register=registerplein, number=NUMBER)
    response = client.post(numbers_url(registration), {f"register_{registerplein.pk}": "12345"})
    assert response.status_code == 400
    assert "begint met 4610" in response.content.decode()
    assert Entry.objects.get().number == NUMBER


def test_after_the_end_the_number_is_shown_but_no_longer_changed(client, social_worker):
    page = client.get(social_worker.get_absolute_url()).content.decode()
    assert NUMBER in page and numbers_url(social_worker) not in page
    registerplein = Register.objects.get()
    response = client.post(numbers_url(social_worker), {f"register_{registerplein.pk}": "4610777"})
    assert response.status_code == 409
    assert Entry.objects.get().number == NUMBER


def test_no_section_without_a_register(client, db):
    registration = make_registration(make_edition())
    assert "Accreditatiepunten" not in client.get(registration.get_absolute_url()).content.decode()


def test_staff_see_who_misses_a_registration_number(client, staff_member, upcoming):
    missing = make_registration(upcoming, first_name="Zonder", last_name="Nummer")
    given = make_registration(upcoming, first_name="Met", last_name="Nummer")
    Entry.objects.create(
        registration=given, register=Register.objects.get(name="SKJ"), number="SKJ-77"
    )
    elsewhere = make_registration(make_edition(), first_name="Andere", last_name="Editie")
    client.force_login(staff_member)
    response = client.get(REGISTRATIONS, {"registratienummer": "ontbreekt"})
    shown = {r.pk for r in response.context["cl"].result_list}
    assert shown == {missing.pk}
    assert elsewhere.pk not in shown


def test_the_checkin_page_counts_mornings_and_afternoons_where_a_register_needs_them(
    client, staff_member, edition, social_worker
):
    client.force_login(staff_member)
    html = client.get(checkin_url(edition)).content.decode()
    assert html.count('type="checkbox"') == 6  # one participant, three days, two parts
    assert "ochtend" in html and "middag" in html
    assert f'value="{social_worker.pk}:{edition.start_date}:middag"' in html


def test_a_whole_day_edition_keeps_its_day_checkboxes(client, staff_member, db):
    edition = make_ended_edition()
    person = make_registration(edition)
    client.force_login(staff_member)
    html = client.get(checkin_url(edition)).content.decode()
    assert html.count('type="checkbox"') == 3 and "ochtend" not in html
    client.post(checkin_url(edition), {"present": [f"{person.pk}:{edition.start_date}"]})
    assert set(Attendance.objects.values_list("part", "present")) == {
        (Part.DAY, True),
        (Part.DAY, False),
    }


def test_registration_numbers_are_erased_with_the_rest(edition, social_worker):
    Attendance.objects.record(
        edition, edition_days(edition), {(social_worker.pk, edition.start_date, Part.MORNING)}
    )
    certificate = Certificate.objects.issue(social_worker)
    assert erase_numbers(dry_run=True) == []  # not due yet
    later = datetime.datetime.combine(
        edition.end_date + datetime.timedelta(days=3 * 366), datetime.time(3), datetime.UTC
    )
    with time_machine.travel(later, tick=False):
        assert erase_numbers(dry_run=True) == [
            f"Dry run: registratienummers van {edition} te wissen."
        ]
        assert Entry.objects.exists()
        assert erase_numbers() == [f"{edition}: registratienummers gewist bij 1."]
    assert not Entry.objects.exists()
    points = certificate.points.get()
    assert points.registration_number == "" and points.points == Decimal("3.0")


def test_a_substitute_does_not_inherit_the_number(upcoming):
    registration = make_registration(upcoming)
    Entry.objects.create(
        registration=registration, register=Register.objects.get(name="SKJ"), number="SKJ-77"
    )
    registration.name_substitute(
        first_name="Piet",
        last_name="Bakker",
        email="piet@gemeente.example.nl",
        phone="06 87654321",
        job_title="Wijkcoach",
    )
    assert not Entry.objects.exists()


def test_the_sign_up_form_asks_for_a_number_only_where_the_edition_has_a_register(client, upcoming):
    html = client.get(reverse("registrations:register", args=[upcoming.slug])).content.decode()
    assert "In welk register sta je?" in html and "Je registratienummer" in html
    plain = make_edition()
    html = client.get(reverse("registrations:register", args=[plain.slug])).content.decode()
    assert "registratienummer" not in html.lower()


def test_a_register_added_later_is_asked_on_the_kept_form_page_and_gone_when_removed(client, db):
    edition = make_edition()
    url = reverse("registrations:register", args=[edition.slug])
    assert "registratienummer" not in client.get(url).content.decode().lower()

    register = make_register(edition, number_format=NumberFormat.NONE)
    assert "Je registratienummer" in client.get(url).content.decode()

    register.delete()
    assert "registratienummer" not in client.get(url).content.decode().lower()


def test_signing_up_with_a_registerplein_number_keeps_it(client, upcoming):
    registerplein = Register.objects.get(name="Registerplein")
    data = sign_up_data(accreditation_register=str(registerplein.pk), accreditation_number=NUMBER)
    response = client.post(reverse("registrations:register", args=[upcoming.slug]), data)
    assert response.status_code == 302
    entry = Entry.objects.get()
    assert (entry.register, entry.number) == (registerplein, NUMBER)
    assert entry.registration.email == data["email"]


def test_signing_up_with_a_bad_number_is_refused_in_dutch_and_stores_nothing(client, upcoming):
    registerplein = Register.objects.get(name="Registerplein")
    data = sign_up_data(accreditation_register=str(registerplein.pk), accreditation_number="123")
    response = client.post(reverse("registrations:register", args=[upcoming.slug]), data)
    assert response.status_code == 200
    assert "begint met 4610" in response.content.decode()
    assert not Registration.objects.exists() and not Entry.objects.exists()


def test_signing_up_without_a_number_is_fine(client, upcoming):
    data = sign_up_data(accreditation_register="", accreditation_number="")
    response = client.post(reverse("registrations:register", args=[upcoming.slug]), data)
    assert response.status_code == 302
    assert Registration.objects.count() == 1 and not Entry.objects.exists()


def test_a_day_recorded_whole_before_the_register_stays_ticked_in_both_parts(
    client, staff_member, edition, social_worker
):
    Attendance.objects.create(registration=social_worker, date=edition.start_date, present=True)
    client.force_login(staff_member)
    html = client.get(checkin_url(edition)).content.decode()
    assert html.count(" checked") == 2
    morning = f'value="{social_worker.pk}:{edition.start_date}:ochtend"'
    assert f"{morning} aria-label" in html
    client.post(
        checkin_url(edition),
        {
            "present": [
                f"{social_worker.pk}:{edition.start_date}:ochtend",
                f"{social_worker.pk}:{edition.start_date}:middag",
            ]
        },
    )
    assert set(Attendance.objects.present().values_list("date", "part")) == {
        (edition.start_date, Part.MORNING),
        (edition.start_date, Part.AFTERNOON),
    }
    assert not Attendance.objects.filter(part=Part.DAY).exists()
