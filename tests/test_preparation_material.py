"""Preparation material: staff add PDFs (checked by content, kept in the database) or links
per edition with a release date; from that day confirmed participants see them on their
personal page and get one mail. A file is served only through the personal link of a
confirmed participant of its edition."""

import datetime
import email
import email.policy
import io
import time

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from registrations.messages.models import Material, MaterialFile, Message, Recipient
from registrations.models import Registration
from tests.conftest import make_edition, make_registration, tiny_pdf

SITE = "https://werkplaats.example.org"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def edition(db):
    return make_edition()


@pytest.fixture
def confirmed(edition):
    return make_registration(edition, first_name="Fatima", email="fatima@example.nl")


def add_url():
    return reverse("admin:participant_messages_material_add")


def upload(client, edition, content, name="slagkracht.pdf", **fields):
    data = {
        "edition": edition.pk,
        "title": "Slagkracht in de wijk",
        "kind": "file",
        "release_on": timezone.localdate().isoformat(),
        "upload": SimpleUploadedFile(name, content, content_type="application/pdf"),
    }
    data.update(fields)
    return client.post(add_url(), data)


def released(edition, title="Slagkracht in de wijk", on=None, content=None):
    material = Material.objects.create(
        edition=edition, title=title, release_on=on or timezone.localdate()
    )
    material.store(content or tiny_pdf(), "slagkracht.pdf")
    return material


def material_url(registration, material):
    return reverse("participant_messages:material", args=[registration.token, material.key])


# Upload


def test_staff_upload_a_pdf_kept_in_the_database(client, staff_member, edition):
    client.force_login(staff_member)
    content = tiny_pdf(pages=2)
    response = upload(client, edition, content)
    assert response.status_code == 302
    material = Material.objects.get()
    assert (material.filename, material.size) == ("slagkracht.pdf", len(content))
    assert bytes(MaterialFile.objects.get(material=material).content) == content


NOT_PDF = {
    "html": (b"<!DOCTYPE html><html><script>alert(1)</script></html>", "geen pdf maar een HTML"),
    "svg": (b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "een SVG"),
    "xml-svg": (b'<?xml version="1.0"?><svg/>', "een SVG"),
    "word": (b"PK\x03\x04" + b"\x00" * 100, "Word-, Excel- of zip"),
    "text": (b"Dit is gewoon tekst", "Dit bestand is geen pdf"),
    "pdf-in-name-only": (b"%PDF-1.7\nnothing that parses", "beschadigd of onleesbaar"),
}


@pytest.mark.parametrize("kind", list(NOT_PDF))
def test_a_file_that_is_no_pdf_is_refused_in_dutch_and_nothing_stored(
    client, staff_member, edition, kind
):
    content, refusal = NOT_PDF[kind]
    client.force_login(staff_member)
    response = upload(client, edition, content, name="echt-een.pdf")
    assert response.status_code == 200
    page = response.content.decode()
    assert refusal in page
    assert "Er is niets opgeslagen" in page
    assert not Material.objects.exists()
    assert not MaterialFile.objects.exists()


def test_a_file_over_the_size_limit_is_refused_and_nothing_stored(
    client, staff_member, edition, settings
):
    settings.PREPARATION_MATERIAL_MAX_MB = 1
    big = tiny_pdf() + b"%" + b"x" * (1024 * 1024)
    client.force_login(staff_member)
    response = upload(client, edition, big)
    assert response.status_code == 200
    assert "groter dan 1 MB" in response.content.decode()
    assert not Material.objects.exists()


def test_a_200_mb_upload_is_refused_before_it_is_read(client, staff_member, edition):
    client.force_login(staff_member)
    response = client.post(
        add_url(),
        {"edition": edition.pk, "title": "Groot", "kind": "file"},
        CONTENT_LENGTH=str(200 * 1024 * 1024),
        follow=True,
    )
    assert "groter dan 20 MB" in response.content.decode()
    assert not Material.objects.exists()


def test_a_link_needs_its_address_and_no_file(client, staff_member, edition):
    client.force_login(staff_member)
    data = {
        "edition": edition.pk,
        "title": "Vruchtbare bodem",
        "kind": "link",
        "release_on": timezone.localdate().isoformat(),
    }
    assert client.post(add_url(), data).status_code == 200
    assert not Material.objects.exists()
    response = client.post(add_url(), {**data, "url": "https://www.platform31.nl/bodem"})
    assert response.status_code == 302
    assert Material.objects.get().url == "https://www.platform31.nl/bodem"


def test_finance_may_not_add_material(client, finance_user, edition):
    client.force_login(finance_user)
    assert upload(client, edition, tiny_pdf()).status_code == 403
    assert not Material.objects.exists()


# On the personal page and behind the personal link


def test_released_material_shows_on_a_confirmed_participants_page(client, edition, confirmed):
    released(edition, "Slagkracht in de wijk")
    Material.objects.create(
        edition=edition, kind="link", title="Vruchtbare bodem", url="https://example.org/bodem"
    )
    later = released(edition, "Nog niet", on=timezone.localdate() + datetime.timedelta(days=3))
    page = client.get(confirmed.get_absolute_url()).content.decode()
    assert "Voorbereiding" in page
    assert "Slagkracht in de wijk" in page
    assert 'href="https://example.org/bodem"' in page
    assert "Nog niet" not in page
    assert material_url(confirmed, later) not in page


def test_someone_waiting_sees_no_material(client, edition):
    released(edition)
    waiting = make_registration(edition, status=Registration.Status.WAITING)
    page = client.get(waiting.get_absolute_url()).content.decode()
    assert "Slagkracht in de wijk" not in page


def test_a_confirmed_participant_downloads_the_pdf_with_safe_headers(client, edition, confirmed):
    content = tiny_pdf()
    material = released(edition, content=content)
    response = client.get(material_url(confirmed, material))
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="slagkracht.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]


def test_the_file_is_refused_to_anyone_but_a_confirmed_participant_of_its_edition(
    client, edition, confirmed
):
    material = released(edition)
    waiting = make_registration(edition, status=Registration.Status.WAITING)
    cancelled = make_registration(edition, status=Registration.Status.CANCELLED)
    other = make_registration(make_edition(slug="andere-editie"))
    not_yet = released(edition, "Later", on=timezone.localdate() + datetime.timedelta(days=1))
    for url in [
        material_url(waiting, material),
        material_url(cancelled, material),
        material_url(other, material),
        material_url(confirmed, not_yet),
        reverse("participant_messages:material", args=["geen-geldige-link", material.key]),
        # Only the material's random key finds it, never its number.
        reverse("participant_messages:material", args=[confirmed.token, str(material.pk)]),
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(material_url(confirmed, material)).status_code == 405


# One mail on release


def run_job():
    out = io.StringIO()
    call_command("send_scheduled_messages", stdout=out)
    return out.getvalue()


def test_release_sends_one_mail_to_each_confirmed_participant(edition, confirmed, mailoutbox):
    second = make_registration(edition, first_name="Pieter", email="pieter@example.nl")
    make_registration(edition, email="wachtend@example.nl", status=Registration.Status.WAITING)
    released(edition, "Slagkracht in de wijk")
    released(edition, "Vruchtbare bodem")
    run_job()
    run_job()
    assert sorted(m.to[0] for m in mailoutbox) == ["fatima@example.nl", "pieter@example.nl"]
    mail = next(m for m in mailoutbox if m.to == ["pieter@example.nl"])
    assert "- Slagkracht in de wijk\n- Vruchtbare bodem" in mail.body
    assert f"{SITE}/inschrijving/{second.token}/" in mail.body
    notice = Message.objects.get(kind=Message.Kind.MATERIAL)
    assert set(Material.objects.values_list("announcement", flat=True)) == {notice.pk}


def test_material_is_announced_on_its_release_date_and_to_whoever_is_confirmed_later(
    edition, confirmed, mailoutbox
):
    release = timezone.localdate() + datetime.timedelta(days=5)
    released(edition, on=release)
    run_job()
    assert mailoutbox == []
    later = make_registration(edition, email="later@example.nl")
    with time_machine.travel(
        timezone.make_aware(datetime.datetime.combine(release, datetime.time(7))), tick=False
    ):
        run_job()
        assert sorted(m.to[0] for m in mailoutbox) == ["fatima@example.nl", later.email]
        latest = make_registration(edition, email="latest@example.nl")
        run_job()
    assert [m.to[0] for m in mailoutbox[2:]] == [latest.email]
    assert Recipient.objects.count() == 3


def test_the_material_mail_survives_a_real_smtp_round_trip(
    smtp_server, settings, edition, confirmed
):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    released(edition)
    run_job()
    deadline = time.monotonic() + 5
    while not inbox.envelopes and time.monotonic() < deadline:
        time.sleep(0.01)
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["fatima@example.nl"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"].strip().startswith("Voorbereiding op Werkplaats")
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Beste Fatima," in text
    assert "- Slagkracht in de wijk" in text
    assert f"{SITE}/inschrijving/{confirmed.token}/" in text


def test_a_page_asks_for_material_only_once_some_is_released(client, edition, confirmed):
    soon = released(edition, on=timezone.localdate() + datetime.timedelta(days=3))
    edition.refresh_from_db()
    assert edition.materials_released_from == soon.release_on
    with CaptureQueriesContext(connection) as queries:
        client.get(confirmed.get_absolute_url())
    assert not [q for q in queries if "participant_messages_material" in q["sql"]]

    now = released(edition, "Vandaag")
    edition.refresh_from_db()
    assert edition.materials_released_from == now.release_on
    assert "Vandaag" in client.get(confirmed.get_absolute_url()).content.decode()

    Material.objects.filter(pk=now.pk).delete()
    soon.delete()
    edition.refresh_from_db()
    assert edition.materials_released_from is None
