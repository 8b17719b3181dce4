"""The rights of the people in the site (registrations/privacy): staff give one person everything
the site holds about them as a file (inzage), and erase them on request by the retention job's
rules (verwijdering); both recorded, both only for whoever holds the permission."""

import datetime
import hashlib
import io
import json
import zipfile

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.urls import reverse
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from programme.models import Edition
from registrations import retention, statistics
from registrations import tasks as registrations_tasks
from registrations.accesslog.models import AccessLogEntry
from registrations.accreditation.models import Entry
from registrations.attendance.models import Attendance, Certificate
from registrations.coaching.models import Coach, CoachSlot
from registrations.intake.models import Answer, Intake
from registrations.invoicing.issuing import issue_invoice
from registrations.invoicing.models import Invoice, InvoiceDocument
from registrations.messages.models import Message, Recipient
from registrations.models import Order, Registration, RegistrationChange, RetentionRecord
from registrations.network.models import Consent
from registrations.privacy.person import ErasureRefused, Person
from tests.conftest import make_edition, make_ended_edition, make_registration
from tests.test_accreditation import make_register

FATIMA = "fatima@gemeente.example.nl"
BRAM = "bram@wijkteam.example.nl"
FIND = reverse("admin:registrations_registration_privacy")
FILE = reverse("admin:registrations_registration_privacy_file")
ERASE = reverse("admin:registrations_registration_privacy_erase")


def _mail(task, argument):
    now = timezone.now()
    return DBTaskResult.objects.create(
        args_kwargs={"args": [argument], "kwargs": {}},
        task_path=task.module_path,
        backend_name="default",
        run_after=now,
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=now,
        exception_class_path="",
        traceback="",
    )


@pytest.fixture
def world(db, invoicing):
    """Fatima in two ended editions: her own sign-up with a case, a coach conversation,
    attendance, a certificate, a message, a mail and an invoice; in the second she also signed
    up a colleague (Pieter). Bram, someone else, is in the first edition with an invoice."""
    first = make_ended_edition(days_ago=40, slug="eerste")
    second = make_ended_edition(days_ago=10, slug="tweede")
    own = make_registration(
        first,
        first_name="Fatima",
        last_name="El Amrani",
        email=FATIMA,
        phone="06 11122233",
        dietary_needs="halal",
        own_case="Hoe krijgen bewoners van Kanaleneiland meer regie?",
    )
    again = make_registration(second, first_name="Fatima", last_name="El Amrani", email=FATIMA)
    colleague = make_registration(
        second, first_name="Pieter", last_name="de Vries", email="pieter@gemeente.example.nl"
    )
    Order.objects.filter(pk=colleague.order_id).update(
        first_name="Fatima", last_name="El Amrani", email=FATIMA.upper()
    )
    bram = make_registration(first, first_name="Bram", last_name="Bakker", email=BRAM)

    question = Intake.objects.for_edition(first).questions.order_by("position").first()
    Answer.objects.create(
        registration=own, question=question, text="Bewoners van Kanaleneiland willen meedoen."
    )
    coach = Coach.objects.create(name="Marieke Smit")
    CoachSlot.objects.create(
        edition=first,
        coach=coach,
        day=first.start_date,
        start=datetime.time(14, 0),
        end=datetime.time(14, 45),
        room="Zaal 2",
        registration=own,
    )
    Attendance.objects.create(registration=own, date=first.start_date, present=True)
    Attendance.objects.create(registration=bram, date=first.start_date, present=True)
    certificate = Certificate.objects.issue(own)
    message = Message.objects.create(edition=first, subject="Route en parkeren", body="Beste")
    now = timezone.now()
    Recipient.objects.create(
        message=message, registration=own, status="sent", queued_at=now, sent_at=now
    )
    Recipient.objects.create(
        message=message, registration=bram, status="sent", queued_at=now, sent_at=now
    )
    _mail(registrations_tasks.send_confirmation_email, own.pk)
    _mail(registrations_tasks.send_confirmation_email, bram.pk)
    invoices = [issue_invoice(r) for r in (own, again, colleague, bram)]
    return {
        "first": first,
        "second": second,
        "own": own,
        "again": again,
        "colleague": colleague,
        "bram": bram,
        "certificate": certificate,
        "invoices": invoices,
    }


def _file(client, email=FATIMA):
    response = client.post(FILE, {"email": email})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert [name.rsplit(".", 1)[1] for name in names] == ["html", "json"]
    html = archive.read(names[0]).decode()
    data = json.loads(archive.read(names[1]))
    return html, {part["titel"]: part["gegevens"] for part in data["onderdelen"]}


def test_the_inzage_file_lists_everything_the_site_holds_about_the_person(
    client, staff_member, world
):
    client.force_login(staff_member)
    html, parts = _file(client)

    own, again, colleague = world["own"], world["again"], world["colleague"]
    assert [r["kop"].split(":")[0] for r in parts["Je inschrijvingen"]] == [
        own.reference,
        again.reference,
    ]
    first = parts["Je inschrijvingen"][0]
    assert first["E-mailadres"] == FATIMA
    assert first["Telefoonnummer"] == "06 11122233"
    assert first["Dieetwensen"] == "halal"
    assert first["Eigen casus of vraag"].startswith("Hoe krijgen bewoners")
    assert first["Prijs excl. btw"] == "€ 1.800,00"
    assert str(world["first"]) in first["kop"] and str(world["second"]) in html
    # Her own orders and the one she booked for Pieter (found case-insensitively).
    assert {o["kop"].split(":")[0] for o in parts["Bestellingen die je deed"]} == {
        own.order.reference,
        again.order.reference,
        colleague.order.reference,
    }
    assert parts["Je casus"][0]["Antwoord"] == "Bewoners van Kanaleneiland willen meedoen."
    assert parts["Coachgesprek"][0]["Coach"] == "Marieke Smit"
    assert parts["Coachgesprek"][0]["Tijd"] == "14:00–14:45"
    assert [a["Aanwezig"] for a in parts["Aanwezigheid"]] == ["ja"]
    certificate = parts["Bewijs van deelname"][0]
    assert certificate["Naam"] == "Fatima El Amrani"
    assert certificate["Controleren op"].endswith(world["certificate"].get_absolute_url())
    assert [m["kop"] for m in parts["Berichten aan jou"]] == [f"{own.reference}: Route en parkeren"]
    assert [(m["kop"], m["Status"]) for m in parts["E-mails"]] == [
        ("bevestiging (opnieuw)", "verstuurd")
    ]
    invoices = {i["kop"] for i in parts["Facturen"]}
    for invoice in world["invoices"][:3]:
        assert f"Factuur {invoice.number}" in invoices
    assert f"Factuurregel op {world['invoices'][0].number} ({own.reference})" in invoices
    assert parts["Geschiedenis van je bestellingen"]
    # The readable page holds the same, with Dutch headings and dates.
    for text in ("Jouw gegevens bij Platform31", "Je inschrijvingen", "Marieke Smit", "halal"):
        assert text in html
    assert '<html lang="nl">' in html


def test_the_inzage_file_holds_nothing_of_anyone_else(client, staff_member, world):
    client.force_login(staff_member)
    html, _ = _file(client)

    for other in ("Bram", "Bakker", BRAM, world["bram"].reference, world["invoices"][3].number):
        assert other not in html
    # Pieter, whom she signed up, appears by reference only: his details are his own.
    for other in ("Pieter", "de Vries", "pieter@"):
        assert other not in html
    assert world["colleague"].reference in html


def test_making_the_file_is_recorded_by_reference(client, staff_member, world):
    client.force_login(staff_member)
    _file(client)

    entries = LogEntry.objects.filter(user=staff_member, change_message__startswith="Inzage")
    assert {e.object_repr for e in entries} == {
        world["own"].reference,
        world["again"].reference,
        world["own"].order.reference,
        world["again"].order.reference,
        world["colleague"].order.reference,
    }
    assert all("Fatima" not in e.change_message and FATIMA not in e.change_message for e in entries)
    assert "gegevens" in entries.first().change_message
    # And in the access log: who, when, what, for one person, by reference only.
    (entry,) = AccessLogEntry.objects.filter(kind=AccessLogEntry.Kind.INZAGE)
    assert (entry.user, entry.count) == (staff_member, 1)
    assert world["own"].reference in entry.reference
    assert FATIMA not in entry.what + entry.reference and "Fatima" not in entry.what


def test_an_erasure_is_in_the_access_log_without_its_reason(client, staff_member, world):
    client.force_login(staff_member)
    client.post(ERASE, {"email": FATIMA, "reason": "mail van Fatima, dossier 88"})

    (entry,) = AccessLogEntry.objects.filter(kind=AccessLogEntry.Kind.ERASURE)
    assert (entry.user, entry.count) == (staff_member, 1)
    assert world["own"].reference in entry.reference
    assert "Fatima" not in entry.what and "dossier" not in entry.what


def test_the_search_page_counts_what_we_hold_and_offers_the_file_and_the_erasure(
    client, staff_member, world
):
    client.force_login(staff_member)
    response = client.get(FIND, {"email": FATIMA})
    page = response.content.decode()

    assert response.status_code == 200
    assert world["own"].reference in page and world["colleague"].order.reference in page
    assert "Inzagebestand downloaden" in page and "Deze persoon wissen" in page
    assert "Bram" not in page
    # Only looking is not recorded; the file is.
    assert not LogEntry.objects.filter(change_message__startswith="Inzage").exists()


def test_the_registration_page_links_to_the_persons_rights(client, staff_member, world):
    client.force_login(staff_member)
    page = client.get(
        reverse("admin:registrations_registration_change", args=[world["own"].pk])
    ).content.decode()
    assert f"{FIND}?email=fatima%40gemeente.example.nl" in page
    changelist = client.get(reverse("admin:registrations_registration_changelist"))
    assert FIND in changelist.content.decode()


def test_an_unknown_address_gives_no_file_and_says_so(client, staff_member, world):
    client.force_login(staff_member)
    assert "bewaren we niets" in client.get(FIND, {"email": "niemand@example.nl"}).content.decode()
    response = client.post(FILE, {"email": "niemand@example.nl"})
    assert response.status_code == 302
    assert not LogEntry.objects.exists()


@pytest.mark.parametrize("persona", ["finance_user", "outsider"])
def test_staff_without_the_permission_get_403_and_nothing_happens(client, request, persona, world):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(FIND, {"email": FATIMA}).status_code == 403
    assert client.post(FILE, {"email": FATIMA}).status_code == 403
    assert client.get(ERASE, {"email": FATIMA}).status_code == 403
    assert client.post(ERASE, {"email": FATIMA, "reason": "verzoek"}).status_code == 403
    assert Person.find(FATIMA)
    assert not LogEntry.objects.exists()
    page = client.get(reverse("admin:registrations_registration_changelist"))
    assert FIND not in page.content.decode()


def test_the_permissions_are_medewerkers_only(db):
    held = {
        p.codename
        for p in Group.objects.get(name="Medewerkers").permissions.filter(
            content_type__app_label="privacy"
        )
    }
    assert held == {"give_access", "erase_person"}
    assert not Group.objects.get(name="Financiën").permissions.filter(
        content_type__app_label="privacy"
    )


def test_the_file_is_a_post_only(client, staff_member, world):
    client.force_login(staff_member)
    assert client.get(FILE, {"email": FATIMA}).status_code == 405


def _invoice_state():
    return {
        invoice.pk: model_to_dict(invoice)
        | {
            "documents": {
                d.kind: hashlib.sha256(bytes(d.content)).hexdigest()
                for d in InvoiceDocument.objects.filter(invoice=invoice)
            },
            "lines": [model_to_dict(line) for line in invoice.lines.all()],
        }
        for invoice in Invoice.objects.order_by("pk")
    }


def _statistics():
    return [statistics.edition_figures(e) for e in Edition.objects.order_by("pk")], (
        statistics.across_editions()
    )


def test_erasure_leaves_invoices_certificates_and_statistics_and_the_person_is_gone(
    client, staff_member, world
):
    invoices_before = _invoice_state()
    for invoice in Invoice.objects.all():
        pdf = InvoiceDocument.objects.get(invoice=invoice, kind="pdf")
        assert hashlib.sha256(bytes(pdf.content)).hexdigest() == invoice.pdf_sha256
    statistics_before = _statistics()
    verify = world["certificate"].get_absolute_url()
    assert "Fatima El Amrani" in client.get(verify).content.decode()
    client.force_login(staff_member)

    confirm = client.get(ERASE, {"email": FATIMA}).content.decode()
    assert "Wat gewist wordt" in confirm and world["colleague"].order.reference in confirm
    response = client.post(ERASE, {"email": FATIMA, "reason": "Verzoek per e-mail van 3 december"})

    assert response.status_code == 302
    assert not Person.find(FATIMA)
    own = Registration.objects.get(pk=world["own"].pk)
    assert (own.first_name, own.last_name, own.phone, own.dietary_needs, own.own_case) == (
        "Geanonimiseerd",
        "",
        "",
        "",
        "",
    )
    assert own.email == f"geanonimiseerd-{own.pk}@invalid" and own.anonymised_at
    assert (own.organisation, own.sector, own.role) == ("Gemeente Utrecht", "gemeente", "leider")
    assert not Answer.objects.filter(registration=own).exists()
    booked = Order.objects.get(pk=world["colleague"].order_id)
    assert (booked.first_name, booked.email, booked.invoice_street) == (
        "Geanonimiseerd",
        "geanonimiseerd@invalid",
        "",
    )
    # Pieter, her colleague, keeps his own details; Bram is untouched.
    assert Registration.objects.get(pk=world["colleague"].pk).first_name == "Pieter"
    assert Registration.objects.get(pk=world["bram"].pk).email == BRAM
    assert _invoice_state() == invoices_before
    assert _statistics() == statistics_before
    page = client.get(verify)
    assert page.status_code == 200 and "Fatima El Amrani" in page.content.decode()
    assert Certificate.objects.get(pk=world["certificate"].pk).registration_id == own.pk
    # Recorded twice: in the admin's history of each row (with the reason), and what the
    # retention job keeps, with the diet count the statistics need.
    entries = LogEntry.objects.filter(user=staff_member, change_message__contains="Reden")
    assert world["own"].reference in {e.object_repr for e in entries}
    assert "Verzoek per e-mail van 3 december" in entries.first().change_message
    assert "Verwijdering op verzoek" in entries.first().change_message
    record = RetentionRecord.objects.get(
        edition=world["first"], action=RetentionRecord.Action.ERASED_ON_REQUEST
    )
    assert (record.registrations, record.confirmed_with_diet) == (1, 1)


def test_erasure_asks_for_a_reason_and_changes_nothing_without_one(client, staff_member, world):
    client.force_login(staff_member)
    response = client.post(ERASE, {"email": FATIMA, "reason": "  "})

    assert response.status_code == 200
    assert "Dit veld is verplicht" in response.content.decode()
    assert Registration.objects.get(pk=world["own"].pk).email == FATIMA
    assert not LogEntry.objects.exists()


def test_a_person_with_a_place_still_to_come_is_refused_in_dutch_and_nothing_changes(
    client, staff_member, world
):
    coming = make_registration(make_edition(), first_name="Fatima", email=FATIMA)
    client.force_login(staff_member)

    page = client.get(ERASE, {"email": FATIMA}).content.decode()
    assert "kan nog niet gewist worden" in page
    assert f"{coming.reference} staat nog bevestigd" in page
    assert "Definitief wissen" not in page
    response = client.post(ERASE, {"email": FATIMA, "reason": "verzoek"})
    assert "annuleer eerst die inschrijving" in response.content.decode()
    assert Registration.objects.filter(email=FATIMA, anonymised_at__isnull=True).count() == 3
    assert not LogEntry.objects.exists()
    with pytest.raises(ErasureRefused):
        Person.find(FATIMA).erase()
    coming.cancel()
    assert Person.find(FATIMA).erasure_refusals() == []


def test_a_confirmed_place_not_yet_invoiced_waits_for_its_invoice(db, world):
    unbilled = make_registration(world["first"], first_name="Fatima", email="f.elamrani@example.nl")
    person = Person.find("f.elamrani@example.nl")

    assert person.erasure_refusals() == [
        f"{unbilled.reference} is nog niet gefactureerd: factureer eerst "
        f"{unbilled.order.reference}, de factuur neemt de gegevens over."
    ]
    issue_invoice(unbilled)
    assert person.erasure_refusals() == []


def test_who_handed_a_place_over_is_found_and_erased(client, staff_member, world):
    change = RegistrationChange.objects.create(
        registration=world["bram"],
        kind=RegistrationChange.Kind.SUBSTITUTE,
        at=timezone.now() + datetime.timedelta(minutes=1),
        fields="naam",
        previous_name="Sanne Visser",
        previous_email="sanne@example.nl",
    )
    person = Person.find("sanne@example.nl")
    assert person and person.handed_over == [change]
    # The invoice issued before she handed over names her; it is in her file, not Bram's.
    assert [line.invoice for line in person.invoice_lines] == [world["invoices"][3]]
    assert Person.find(BRAM).invoice_lines == []
    client.force_login(staff_member)
    html, parts = _file(client, "sanne@example.nl")
    assert "Sanne Visser" in html and world["invoices"][3].number in html

    client.post(ERASE, {"email": "sanne@example.nl", "reason": "verzoek"})

    change.refresh_from_db()
    assert (change.previous_name, change.previous_email) == ("", "")
    assert LogEntry.objects.filter(object_repr="verwijdering op verzoek").exists()


def test_the_retention_job_and_the_erasure_share_one_rule_per_row(db, world):
    """Both call retention.anonymise_registration: the job's result is what erasure gives."""
    by_the_job = Registration.objects.get(pk=world["bram"].pk)
    retention.anonymise_registration(by_the_job, timezone.now())
    Person.find(FATIMA).erase()
    erased = Registration.objects.get(pk=world["own"].pk)
    fields = [*retention.ERASED, "organisation", "sector", "role", "status"]
    assert {f: getattr(erased, f) for f in fields} == {f: getattr(by_the_job, f) for f in fields}


def test_a_second_erasure_of_the_same_person_finds_nothing_and_records_nothing(
    client, staff_member, world
):
    client.force_login(staff_member)
    client.post(ERASE, {"email": FATIMA, "reason": "verzoek"})
    recorded = LogEntry.objects.count()
    records = RetentionRecord.objects.count()

    response = client.post(ERASE, {"email": FATIMA, "reason": "verzoek"})

    assert response.status_code == 200
    assert "bewaren we niets" in response.content.decode()
    assert (LogEntry.objects.count(), RetentionRecord.objects.count()) == (recorded, records)


def test_the_file_holds_the_registration_numbers_and_the_network_consent_and_erasing_ends_both(
    client, staff_member, world
):
    own = world["own"]
    register = make_register(world["first"])
    Entry.objects.create(registration=own, register=register, number="46101234")
    Consent.objects.create(
        registration=own,
        given_on=world["first"].start_date,
        name="Fatima El Amrani",
        organisation="Gemeente Utrecht",
        job_title="Wijkregisseur",
        email=FATIMA,
    )
    client.force_login(staff_member)

    html, parts = _file(client)

    assert "46101234" in html and "Registerplein" in html
    assert "Wijkregisseur" in html and "Gemeente Utrecht" in html
    assert parts["Accreditatie"] and parts["Netwerk"]

    response = client.post(ERASE, {"email": FATIMA, "reason": "verzoek"})

    assert response.status_code in (200, 302)
    assert not Entry.objects.filter(registration=own).exists()
    consent = Consent.objects.get(registration=own)
    assert consent.withdrawn_on is not None
    assert (consent.name, consent.email, consent.organisation) == ("", "", "")
