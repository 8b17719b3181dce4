"""Issuing invoices and credit notes, and correcting an invoice by credit and reissue.

An invoice is numbered, snapshotted, turned into an e-invoice (validated when the rules are
configured) and rendered to PDF in one transaction, with the series
counter row locked: parallel issues wait for each other, and a failure anywhere (the render,
the database, a full disk) rolls everything back together, number and documents included, so
numbers have no gaps and never repeat, and no document exists without its invoice.
"""

import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.models import Registration
from werkplaats.formats import period, round_cents

from .documents import store_documents
from .models import (
    Invoice,
    InvoiceCounter,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRefused,
    vat_breakdown,
)

NUMBER_DIGITS = 4


def _next_number(issuer, year, credit):
    """Take the next number of the series. Must run inside the issuing transaction."""
    series = issuer.series(year, credit=credit)
    # get_or_create: a parallel first issue of the year makes the insert of one of them fail
    # on the unique series; that one then waits for and locks the winner's row.
    counter, _ = InvoiceCounter.objects.select_for_update().get_or_create(series=series)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return series, counter.last_number, f"{series}{counter.last_number:0{NUMBER_DIGITS}d}"


def _issuer_snapshot(issuer):
    return {
        "issuer_name": issuer.name,
        "issuer_street": issuer.street,
        "issuer_postcode": issuer.postcode,
        "issuer_city": issuer.city,
        "issuer_country": issuer.country.name,
        "issuer_kvk_number": issuer.kvk_number,
        "issuer_vat_id": issuer.vat_id,
        "issuer_iban": issuer.iban,
        "issuer_bic": issuer.bic,
        "issuer_email": issuer.email,
        "issuer_is_example": issuer.is_example,
        "footer_text": issuer.footer_text,
    }


def _ready_issuer():
    issuer = InvoiceIssuer.load()
    missing = issuer.missing_details()
    if missing:
        raise InvoiceRefused(
            "Factureren kan nog niet: vul eerst bij 'Factuurafzender' in: "
            + ", ".join(missing)
            + "."
        )
    if issuer.is_example and not settings.DEBUG:
        raise InvoiceRefused(
            "De factuurafzender bevat voorbeeldgegevens. Vul de echte gegevens in en zet "
            "'voorbeeldgegevens' uit."
        )
    return issuer


def line_description(registration):
    edition = registration.edition
    dates = period(edition.start_date, edition.end_date)
    venue = ", ".join(part for part in [edition.venue_name, edition.venue_city] if part)
    text = f"{edition.title}, {dates}, {venue}"
    if edition.price_includes:
        text += f", inclusief {edition.price_includes}"
    return f"{text}\nDeelnemer: {registration.full_name}"


def issue_invoice(registration, at=None, by=None, lines=None):
    """Issue the invoice for one registration and return it, with its PDF stored.

    By default one line for the participant at the price and VAT agreed when they signed up
    (never the edition's current price). `lines` splits it into components with their own
    rate (e.g. meals at 9%), as [(description, quantity, unit price excl. VAT, VAT rate)]. An
    exemption agreed at sign-up puts every line at 0%.

    Refused (InvoiceRefused) while the issuer is incomplete, for anyone who is not a
    confirmed participant (waiting list, cancelled), and while the registration has an
    invoice that was not credited.
    """
    at = at or timezone.now()
    invoice_date = amsterdam_date(at)
    with transaction.atomic():
        # Lock the registration so two clicks cannot both issue its invoice.
        registration = (
            Registration.objects.select_for_update()
            .select_related("edition")
            .get(pk=registration.pk)
        )
        if registration.status != Registration.Status.CONFIRMED:
            raise InvoiceRefused(
                f"{registration.reference} is {registration.get_status_display()}: alleen "
                "bevestigde deelnemers krijgen een factuur."
            )
        current = registration.invoices.uncredited().first()
        if current:
            raise InvoiceRefused(
                f"{registration.reference} heeft al factuur {current.number}. Maak eerst een "
                "creditfactuur als deze moet worden vervangen."
            )
        issuer = _ready_issuer()
        edition = registration.edition
        if lines is None:
            lines = [
                (
                    line_description(registration),
                    1,
                    registration.price_excl_vat,
                    registration.vat_rate,
                )
            ]
        invoice_lines = [
            InvoiceLine(
                position=position,
                description=description,
                quantity=Decimal(quantity),
                unit_price=round_cents(unit_price),
                vat_rate=Decimal("0.00") if registration.vat_exempt else Decimal(rate),
                amount_excl_vat=round_cents(Decimal(quantity) * round_cents(unit_price)),
            )
            for position, (description, quantity, unit_price, rate) in enumerate(lines, 1)
        ]
        series, sequence, number = _next_number(issuer, invoice_date.year, credit=False)
        invoice = Invoice(
            number=number,
            series=series,
            sequence=sequence,
            kind=Invoice.Kind.INVOICE,
            registration=registration,
            invoice_date=invoice_date,
            due_date=invoice_date + datetime.timedelta(days=issuer.payment_term_days),
            supply_start=edition.start_date,
            supply_end=edition.end_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            **_issuer_snapshot(issuer),
            customer_organisation=registration.invoice_organisation,
            customer_attention=registration.invoice_attention,
            customer_street=registration.invoice_street,
            customer_postcode=registration.invoice_postcode,
            customer_city=registration.invoice_city,
            customer_country=registration.invoice_country.code,
            customer_country_name=registration.invoice_country.name,
            customer_email=registration.invoice_email,
            customer_vat_id=registration.vat_id,
            customer_kvk_number=registration.kvk_number,
            customer_oin=registration.oin,
            customer_peppol_id=registration.peppol_id,
            po_number=registration.po_number,
            payment_reference=number,
            vat_exemption_text=registration.vat_exemption_text,
        )
        return _finish(invoice, invoice_lines)


def credit_invoice(invoice, at=None, by=None):
    """Issue the credit note for `invoice`: same snapshot, negative amounts, its own number.

    An invoice is credited once; a second attempt is refused.
    """
    at = at or timezone.now()
    credit_date = amsterdam_date(at)
    with transaction.atomic():
        original = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if original.is_credit_note:
            raise InvoiceRefused(f"{original.number} is zelf een creditfactuur.")
        if Invoice.objects.filter(credited_invoice=original).exists():
            raise InvoiceRefused(f"Factuur {original.number} is al gecrediteerd.")
        issuer = _ready_issuer()
        series, sequence, number = _next_number(issuer, credit_date.year, credit=True)
        fields = {
            field.name: getattr(original, field.name)
            for field in Invoice._meta.concrete_fields
            if field.name.startswith(("issuer_", "customer_"))
            or field.name
            in {"footer_text", "po_number", "vat_exemption_text", "supply_start", "supply_end"}
        }
        credit = Invoice(
            **fields,
            number=number,
            series=series,
            sequence=sequence,
            kind=Invoice.Kind.CREDIT_NOTE,
            credited_invoice=original,
            registration_id=original.registration_id,
            invoice_date=credit_date,
            due_date=credit_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            payment_reference=original.number,
        )
        lines = [
            InvoiceLine(
                position=line.position,
                description=line.description,
                quantity=line.quantity,
                unit_price=-line.unit_price,
                vat_rate=line.vat_rate,
                amount_excl_vat=-line.amount_excl_vat,
            )
            for line in original.lines.all()
        ]
        return _finish(credit, lines)


def _finish(invoice, lines):
    """Totals, insert, documents: the last steps of issuing, inside the caller's transaction.

    An e-invoice that the configured rules find fatal refuses the whole issue (InvoiceRefused):
    the transaction rolls back, so no invoice, number or document remains.
    """
    breakdown = vat_breakdown(lines)
    invoice.total_excl_vat = sum((base for _, base, _ in breakdown), Decimal("0.00"))
    invoice.total_vat = sum((vat for _, _, vat in breakdown), Decimal("0.00"))
    invoice.total_incl_vat = invoice.total_excl_vat + invoice.total_vat
    invoice.save()
    for line in lines:
        line.invoice = invoice
    InvoiceLine.objects.bulk_create(lines)
    store_documents(invoice)
    return invoice


def correct_and_reissue(registration, changes, at=None, by=None):
    """The correction path of an invoiced registration, all or nothing: credit its invoice,
    apply `changes` (field -> value) to the registration, and issue a new invoice.

    Returns (credit note, new invoice). The fields an invoice froze change only this way.
    """
    with transaction.atomic():
        registration = Registration.objects.select_for_update().get(pk=registration.pk)
        current = registration.invoices.uncredited().first()
        if current is None:
            raise InvoiceRefused(
                f"{registration.reference} heeft geen factuur om te corrigeren; wijzig de "
                "gegevens gewoon op de inschrijving."
            )
        credit = credit_invoice(current, at=at, by=by)
        for field, value in changes.items():
            setattr(registration, field, value)
        registration.full_clean()
        registration.save()
        return credit, issue_invoice(registration, at=at, by=by)
