"""The inzage file: everything the site holds about one person, as they would read it.

A ZIP with a readable HTML page (opens in any browser, prints well, no outside files) and the
same content as JSON (for whoever wants to take it elsewhere). Both come from one list of
sections, so they cannot disagree. Dates and money go through werkplaats/formats.py.
"""

import io
import json
import zipfile
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tasks import TaskResultStatus

from programme.models import amsterdam_date
from registrations.retention import anonymise_on
from werkplaats import formats

MAIL_STATUS = {
    TaskResultStatus.READY: "in de wachtrij",
    TaskResultStatus.RUNNING: "wordt verstuurd",
    TaskResultStatus.SUCCESSFUL: "verstuurd",
    TaskResultStatus.FAILED: "niet verstuurd (mailserver)",
}


@dataclass
class Section:
    """One heading of the file: a short text why we hold it, then one block per row, each a
    caption and (label, value) pairs."""

    title: str
    text: str
    records: list = field(default_factory=list)

    def append_record(self, caption, *pairs):
        self.records.append((caption, [(label, _as_shown(value)) for label, value in pairs]))


def _as_shown(value):
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "ja" if value else "nee"
    return str(value)


def _moment(value):
    return formats.moment(value) if value else None


def _day(value):
    return formats.day(value) if value else None


def _registrations(person):
    section = Section(
        "Je inschrijvingen",
        "Wat je (of wie je aanmeldde) invulde bij het inschrijven, en wat daarna veranderde.",
    )
    for r in person.registrations:
        section.append_record(
            f"{r.reference}: {r.edition}",
            ("Werkplaats", r.edition.title),
            ("Data", formats.period(r.edition.start_date, r.edition.end_date)),
            ("Status", r.get_status_display()),
            ("Voornaam", r.first_name),
            ("Achternaam", r.last_name),
            ("E-mailadres", r.email),
            ("Telefoonnummer", r.phone),
            ("Organisatie", r.organisation),
            ("Functie", r.job_title),
            ("Sector", r.get_sector_display()),
            ("Rol", r.get_role_display()),
            ("Eigen casus of vraag", r.own_case),
            ("Dieetwensen", r.dietary_needs),
            ("Toegankelijkheid", r.accessibility_needs),
            ("Overnachten op de locatie", r.overnight_stay),
            ("Prijs excl. btw", formats.money(r.price_excl_vat)),
            ("Aangemeld door", f"{r.order.full_name} ({r.order.reference})"),
            ("Ingeschreven op", _moment(r.created_at)),
            ("Op de wachtlijst sinds", _moment(r.waiting_since)),
            ("Geannuleerd op", _moment(r.cancelled_at)),
            ("Bevestiging verstuurd op", _moment(r.confirmation_sent_at)),
            ("Geanonimiseerd op", _moment(r.anonymised_at)),
            ("Wordt geanonimiseerd op", _day(anonymise_on(r.edition))),
        )
    return section


def _orders(person):
    section = Section(
        "Bestellingen die je deed",
        "Een bestelling is één aanmelding: wie aanmeldde, de factuurgegevens en de deelnemers. "
        "Ook een bestelling waarvan het factuuradres jouw e-mailadres is.",
    )
    for o in person.orders:
        section.append_record(
            f"{o.reference}: {o.edition}",
            ("Voornaam", o.first_name),
            ("Achternaam", o.last_name),
            ("E-mailadres", o.email),
            ("Telefoonnummer", o.phone),
            ("Organisatie", o.organisation),
            ("Organisatie (factuur)", o.invoice_organisation),
            ("Ter attentie van", o.invoice_attention),
            ("Straat en huisnummer", o.invoice_street),
            ("Postcode", o.invoice_postcode),
            ("Plaats", o.invoice_city),
            ("Land", o.invoice_country),
            ("E-mailadres voor de factuur", o.invoice_email),
            ("Inkoopordernummer of kenmerk", o.po_number),
            ("Btw-nummer", o.vat_id),
            ("KvK-nummer", o.kvk_number),
            ("OIN", o.oin),
            ("Peppol-ID", o.peppol_id),
            ("Deelnemers", ", ".join(p.reference for p in o.positions.all())),
            ("Akkoord voorwaarden op", _moment(o.terms_accepted_at)),
            ("Akkoord privacyverklaring op", _moment(o.privacy_accepted_at)),
            ("Ingeschreven op", _moment(o.created_at)),
            ("Geanonimiseerd op", _moment(o.anonymised_at)),
        )
    return section


def _changes(person):
    section = Section(
        "Wijzigingen",
        "Wat je op je eigen pagina veranderde (welke gegevens, niet de waarden), en een plaats "
        "die je aan een vervanger gaf.",
    )
    for c in person.changes:
        section.append_record(
            f"{c.registration.reference}: {c.get_kind_display()}",
            ("Op", _moment(c.at)),
            ("Gewijzigde gegevens", c.fields),
            ("Door de besteller", c.by_booker),
        )
    for c in person.handed_over:
        section.append_record(
            f"Plaats overgedragen ({c.registration.reference})",
            ("Op", _moment(c.at)),
            ("Vorige deelnemer", c.previous_name),
            ("E-mailadres vorige deelnemer", c.previous_email),
        )
    return section


def _offers(person):
    section = Section(
        "Aanbod van een plaats", "Plaatsen die je vanaf de wachtlijst kreeg aangeboden."
    )
    for o in person.offers:
        section.append_record(
            o.registration.reference,
            ("Aangeboden op", _moment(o.offered_at)),
            ("Geldig tot", _moment(o.expires_at)),
            ("Stand", o.get_state_display()),
            ("Afgehandeld op", _moment(o.closed_at)),
            ("E-mail verstuurd op", _moment(o.emailed_at)),
        )
    return section


def _cases(person):
    section = Section(
        "Je casus",
        "Je antwoorden op de casusvragen; ze worden enkele weken na de werkplaats gewist.",
    )
    for a in person.answers:
        section.append_record(
            f"{a.registration.reference}: {a.question.text}",
            ("Antwoord", a.text),
            ("Gewijzigd", _moment(a.updated_at)),
        )
    return section


def _coaching(person):
    section = Section("Coachgesprek", "Het coachgesprek dat je boekte of dat voor je werd gepland.")
    for s in person.coach_slots:
        section.append_record(
            s.registration.reference,
            ("Coach", s.coach.name),
            ("Dag", formats.day(s.day)),
            ("Tijd", f"{formats.clock(s.start)}–{formats.clock(s.end)}"),
            ("Ruimte", s.room),
        )
    return section


def _attendance(person):
    section = Section("Aanwezigheid", "Per dag of je er was, zoals de medewerkers het vastlegden.")
    for a in person.attendances:
        section.append_record(
            f"{a.registration.reference}: {formats.day(a.date)}",
            ("Dagdeel", a.get_part_display()),
            ("Aanwezig", a.present),
            ("Vastgelegd op", _moment(a.recorded_at)),
        )
    return section


def _certificates(person, site_url):
    section = Section(
        "Bewijs van deelname",
        "Je bewijs van deelname; iedereen met de code kan controleren dat het echt is.",
    )
    for c in person.certificates:
        section.append_record(
            c.registration.reference,
            ("Naam", c.participant_name),
            ("Werkplaats", c.workshop_title),
            ("Organisatoren", c.organisers),
            ("Data", formats.period(c.start_date, c.end_date)),
            ("Locatie", c.venue),
            ("Dagen aanwezig", c.days_attended),
            ("Contacturen", formats.decimal(c.contact_hours)),
            ("Accreditatie", c.accreditation_text),
            ("Controleren op", f"{site_url}{c.get_absolute_url()}"),
            ("Uitgegeven op", _moment(c.issued_at)),
            ("Gemaild op", _moment(c.emailed_at)),
        )
    return section


def _accreditation(person):
    section = Section(
        "Accreditatie",
        "De registratienummers die je opgaf en de punten op je bewijs van deelname.",
    )
    for e in person.register_entries:
        section.append_record(
            f"{e.registration.reference}: {e.register.name}",
            ("Registratienummer", e.number),
            ("Eindopdracht behaald", e.final_assignment_passed),
            ("Bijgewerkt op", _moment(e.updated_at)),
        )
    for p in person.certificate_points:
        section.append_record(
            f"{p.certificate.registration.reference}: bewijs, {p.register_name}",
            ("Accreditatienummer", p.accreditation_id),
            ("Registratienummer", p.registration_number),
            ("Dagdelen aanwezig", f"{p.parts_attended} van {p.parts_total}"),
            ("Punten", formats.decimal(p.points)),
        )
    return section


def _network(person):
    section = Section(
        "Netwerk",
        "Of je je gegevens deelde met de andere deelnemers van je werkplaats, en wat je deelde.",
    )
    for c in person.consents:
        section.append_record(
            f"{c.registration.reference}: {c.registration.edition}",
            ("Toestemming gegeven op", _day(c.given_on)),
            ("Ingetrokken op", _day(c.withdrawn_on)),
            ("Naam", c.name),
            ("Organisatie", c.organisation),
            ("Functie", c.job_title),
            ("E-mailadres", c.email),
        )
    return section


def _messages(person):
    section = Section(
        "Berichten aan jou", "Berichten die de medewerkers aan de deelnemers stuurden."
    )
    for r in person.recipients:
        section.append_record(
            f"{r.registration.reference}: {r.message.subject}",
            ("Status", r.get_status_display()),
            ("In de wachtrij gezet", _moment(r.queued_at)),
            ("Verstuurd op", _moment(r.sent_at)),
        )
    return section


def _mails(person):
    section = Section(
        "E-mails",
        "De e-mails die de site je stuurde, zoals de wachtrij ze bijhoudt (zonder de inhoud).",
    )
    for what, result in person.mails:
        section.append_record(
            what,
            ("In de wachtrij gezet", _moment(result.enqueued_at)),
            ("Afgerond", _moment(result.finished_at)),
            ("Status", MAIL_STATUS.get(result.status, result.status)),
        )
    return section


def _invoices(person):
    section = Section(
        "Facturen",
        "Facturen van je bestellingen of met jouw naam erop. Een factuur is een vastgelegde "
        "kopie die we zeven jaar bewaren (fiscale bewaarplicht); die verandert en verdwijnt niet.",
    )
    for i in person.invoices:
        section.append_record(
            f"{i.get_kind_display().capitalize()} {i.number}",
            ("Factuurdatum", formats.day(i.invoice_date)),
            ("Klant", i.customer_organisation),
            ("Ter attentie van", i.customer_attention),
            ("Adres", f"{i.customer_street}, {i.customer_postcode} {i.customer_city}"),
            ("E-mailadres voor de factuur", i.customer_email),
            ("Totaal incl. btw", formats.money(i.total_incl_vat)),
            ("Gemaild op", _moment(i.emailed_at)),
        )
    for line in person.invoice_lines:
        section.append_record(
            f"Factuurregel op {line.invoice.number} ({line.registration.reference})",
            ("Omschrijving", line.description),
            ("Bedrag excl. btw", formats.money(line.amount_excl_vat)),
        )
    for reminder in person.reminders:
        section.append_record(
            f"{reminder.get_level_display()} {reminder.invoice.number}",
            ("Verstuurd op", _moment(reminder.sent_at)),
            ("Naar", reminder.sent_to),
        )
    return section


def _history(person):
    section = Section(
        "Geschiedenis van je bestellingen",
        "Wat er met je bestelling en inschrijvingen gebeurde, stap voor stap.",
    )
    for entry in person.history:
        section.append_record(
            f"{entry.order.reference}: {entry.get_kind_display()}",
            ("Wanneer", _moment(entry.at)),
            ("Toelichting", entry.text),
        )
    return section


def sections(person, site_url=""):
    """Every section of the file, in the order a person reads it; empty ones say so."""
    return [
        _registrations(person),
        _orders(person),
        _changes(person),
        _offers(person),
        _cases(person),
        _coaching(person),
        _attendance(person),
        _certificates(person, site_url),
        _accreditation(person),
        _network(person),
        _messages(person),
        _mails(person),
        _invoices(person),
        _history(person),
    ]


def as_json(person, parts, made_at):
    return json.dumps(
        {
            "e-mailadres": person.email,
            "gemaakt_op": formats.moment(made_at),
            "onderdelen": [
                {
                    "titel": part.title,
                    "toelichting": part.text,
                    "gegevens": [
                        {"kop": caption, **dict(pairs)} for caption, pairs in part.records
                    ],
                }
                for part in parts
            ],
        },
        ensure_ascii=False,
        indent=2,
    )


def as_html(person, parts, made_at):
    with translation.override("nl"):
        return render_to_string(
            "privacy/document.html",
            {
                "person": person,
                "sections": parts,
                "made_on": formats.day(amsterdam_date(made_at)),
                "made_at": formats.moment(made_at),
            },
        )


def filename_stem(made_at):
    return f"inzage-{amsterdam_date(made_at).isoformat()}"


def zip_file(person, made_at=None, site_url=None):
    """(ZIP bytes, filename): the HTML page and the JSON beside it."""
    made_at = made_at or timezone.now()
    site_url = settings.SITE_URL if site_url is None else site_url
    parts = sections(person, site_url)
    stem = filename_stem(made_at)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}.html", as_html(person, parts, made_at))
        archive.writestr(f"{stem}.json", as_json(person, parts, made_at))
    return buffer.getvalue(), f"{stem}.zip"
