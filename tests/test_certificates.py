"""Certificates of participation: who gets one, what it says, the mail, the download and the
public verification page."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from registrations.attendance import pdf
from registrations.attendance.models import (
    Attendance,
    Certificate,
    CertificateRefused,
    contact_hours,
    edition_days,
)
from tests.conftest import (
    admin_action,
    make_edition,
    make_ended_edition,
    make_registration,
    pdf_fonts,
    pdf_text,
)
from werkplaats import formats

REGISTRATIONS = reverse("admin:registrations_registration_changelist")


def attend(registration, days):
    for day in days:
        Attendance.objects.update_or_create(
            registration=registration, date=day, defaults={"present": True}
        )


@pytest.fixture
def edition(db):
    return make_ended_edition(
        contact_hours_per_day=Decimal("6"),
        accreditation_text="Geaccrediteerd door Registerplein, kenmerk RP-2022-0815.",
    )


@pytest.fixture
def present(edition):
    """Sanne, present on the first two of the three days."""
    registration = make_registration(edition, first_name="Sanne", last_name="de Vries")
    attend(registration, edition_days(edition)[:2])
    return registration


def test_hours_are_days_attended_times_the_contact_hours_per_day(edition):
    assert contact_hours(edition, 2) == Decimal("12.0")


def test_without_contact_hours_a_day_counts_from_start_to_end(db):
    edition = make_ended_edition(
        daily_start_time=datetime.time(9, 30), daily_end_time=datetime.time(17, 0)
    )
    assert edition.contact_hours_per_day is None
    assert contact_hours(edition, 3) == Decimal("22.5")


def test_certificate_snapshots_what_it_states(edition, present):
    certificate = Certificate.objects.issue(present)
    assert certificate.participant_name == "Sanne de Vries"
    assert certificate.workshop_title == edition.title
    assert certificate.organisers == "Platform31 en Van Vieren"
    assert (certificate.start_date, certificate.end_date) == (edition.start_date, edition.end_date)
    assert certificate.venue == "Kaap Doorn Conferentiecentrum, Doorn"
    assert certificate.days_attended == 2
    assert certificate.contact_hours == Decimal("12.0")
    assert Certificate.objects.issue(present) == certificate  # once per registration


def test_codes_are_unguessable_and_unique(edition, present):
    other = make_registration(edition)
    attend(other, edition_days(edition)[:1])
    first, second = Certificate.objects.issue(present), Certificate.objects.issue(other)
    assert first.code != second.code
    # token_urlsafe(24): 24 random bytes, 32 characters of base64, 192 bits.
    assert len(first.code) == 32 and len(first.code) * 6 >= 128


def test_no_certificate_before_the_edition_has_ended(db):
    today = datetime.date.today()
    running = make_edition(
        start_date=today - datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=1),
        registration_deadline=today - datetime.timedelta(days=10),
    )
    registration = make_registration(running)
    attend(registration, [running.start_date])
    with pytest.raises(CertificateRefused, match="nog niet afgelopen"):
        Certificate.objects.issue(registration)
    assert not Certificate.objects.exists()


def test_no_certificate_for_someone_never_present(edition):
    registration = make_registration(edition)
    with pytest.raises(CertificateRefused, match="geen enkele dag"):
        Certificate.objects.issue(registration)
    Attendance.objects.mark_no_show(registration)
    with pytest.raises(CertificateRefused, match="geen enkele dag"):
        Certificate.objects.issue(registration)
    assert not Certificate.objects.exists()


def test_no_certificate_for_a_cancelled_registration(edition):
    registration = make_registration(edition, status="cancelled")
    attend(registration, [edition.start_date])
    with pytest.raises(CertificateRefused):
        Certificate.objects.issue(registration)


def test_certificate_pdf_states_name_workshop_dates_venue_hours_and_code(edition, present):
    certificate = Certificate.objects.issue(present)
    content = pdf.certificate(certificate)
    text = pdf_text(content)
    for expected in [
        "Bewijs van deelname",
        "Sanne de Vries",
        "Werkplaats ‘Werken aan wijkontwikkeling’",
        "Platform31 en Van Vieren",
        formats.period(edition.start_date, edition.end_date),
        "Kaap Doorn Conferentiecentrum, Doorn",
        "Contacturen 12",
        "2 dagen",
        "Registerplein, kenmerk RP-2022-0815",
        certificate.code,
    ]:
        assert expected in text, expected
    assert len(PdfReader(io.BytesIO(content)).pages) == 1
    assert pdf_fonts(content) and all(pdf_fonts(content).values())


def test_certificate_renders_the_same_bytes_twice(present):
    certificate = Certificate.objects.issue(present)
    assert pdf.certificate(certificate) == pdf.certificate(certificate)


def test_certificates_go_only_to_those_present_after_the_end(
    client, staff_member, edition, present
):
    absent = make_registration(edition, first_name="Niet", last_name="Gekomen")
    client.force_login(staff_member)
    response = admin_action(
        client, REGISTRATIONS, "send_certificates", [present, absent], apply="1"
    )
    assert response.status_code == 302
    assert Certificate.objects.get().registration == present
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [present.email]
    assert "bewijs van deelname" in message.subject.lower()
    name, content, mimetype = message.attachments[0]
    assert mimetype == "application/pdf" and "Sanne de Vries" in pdf_text(content)
    assert Certificate.objects.get().emailed_at is not None


def test_mailing_again_asks_first_and_sends_only_when_confirmed(
    client, staff_member, edition, present
):
    client.force_login(staff_member)
    admin_action(client, REGISTRATIONS, "send_certificates", [present], apply="1")
    assert len(mail.outbox) == 1
    response = admin_action(client, REGISTRATIONS, "send_certificates", [present])
    assert response.status_code == 200
    assert "opnieuw mailen" in response.content.decode()
    assert len(mail.outbox) == 1
    admin_action(client, REGISTRATIONS, "send_certificates", [present], apply="1")
    assert len(mail.outbox) == 2
    assert Certificate.objects.count() == 1


@pytest.mark.parametrize("persona", ["finance_user", "outsider"])
def test_only_staff_send_certificates(client, request, persona, present):
    client.force_login(request.getfixturevalue(persona))
    admin_action(client, REGISTRATIONS, "send_certificates", [present])
    assert not Certificate.objects.exists() and not mail.outbox


def test_verification_page_shows_only_name_workshop_and_date(client, edition, present):
    certificate = Certificate.objects.issue(present)
    response = client.get(reverse("attendance:verify", args=[certificate.code]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sanne de Vries" in html
    assert "Werken aan wijkontwikkeling" in html
    assert formats.period(edition.start_date, edition.end_date) in html
    for private in [
        present.email,
        present.organisation,
        present.phone,
        present.token,
        "Contacturen",
        "Registerplein",
    ]:
        assert private not in html


def test_an_unknown_code_is_not_found(client, present):
    Certificate.objects.issue(present)
    assert client.get(reverse("attendance:verify", args=["geen-echte-code"])).status_code == 404
    assert client.get("/certificaat/%00/").status_code == 404


def test_verification_survives_anonymisation(client, edition, present):
    certificate = Certificate.objects.issue(present)
    Edition = type(edition)
    long_ago = edition.start_date - datetime.timedelta(days=800)
    Edition.objects.filter(pk=edition.pk).update(
        start_date=long_ago,
        end_date=long_ago + datetime.timedelta(days=2),
        registration_deadline=long_ago - datetime.timedelta(days=14),
    )
    call_command("apply_retention", stdout=io.StringIO())
    present.refresh_from_db()
    assert present.anonymised_at is not None and "Sanne" not in present.full_name
    html = client.get(reverse("attendance:verify", args=[certificate.code])).content.decode()
    assert "Sanne de Vries" in html


def test_personal_page_links_the_certificate_and_the_token_guards_the_download(client, present):
    detail = client.get(present.get_absolute_url()).content.decode()
    download = reverse("attendance:certificate_download", args=[present.token])
    assert download not in detail
    assert client.get(download).status_code == 404  # none issued yet
    Certificate.objects.issue(present)
    assert download in client.get(present.get_absolute_url()).content.decode()
    response = client.get(download)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "Sanne de Vries" in pdf_text(b"".join(response.streaming_content))
    # Another first character: "x" + the rest was the token itself once in 64 runs.
    other = "y" if present.token[0] == "x" else "x"
    wrong = reverse("attendance:certificate_download", args=[other + present.token[1:]])
    assert client.get(wrong).status_code == 404
    assert client.post(download).status_code == 405


def test_staff_download_a_certificate_from_the_admin(client, staff_member, finance_user, present):
    certificate = Certificate.objects.issue(present)
    url = reverse("admin:attendance_certificate_pdf", args=[certificate.pk])
    client.force_login(staff_member)
    response = client.get(url)
    assert response.status_code == 200
    assert "Sanne de Vries" in pdf_text(b"".join(response.streaming_content))
    changelist = client.get(reverse("admin:attendance_certificate_changelist"))
    assert changelist.status_code == 200 and url in changelist.content.decode()
