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
from registrations.history.models import OrderLogEntry, record
from registrations.models import AGREED_PRICE_FIELDS, Order, Registration
from registrations.organisations.identifiers import name_key
from werkplaats.formats import money, period, round_cents

from .documents import store_documents
from .log import record_for_invoice
from .models import (
    Invoice,
    InvoiceCounter,
    InvoiceIssuer,
    InvoiceLine,
    InvoiceRefused,
    on_standing_invoice,
    vat_breakdown,
)

NUMBER_DIGITS = 4
LOG = OrderLogEntry.Kind


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


def _same_customer_key(order):
    # Finance combines what one accounts-payable department matches to one purchase order:
    # the same organisation (as the register names it, else as typed) and reference, however
    # the names were typed.
    return (name_key(order.invoice_details().organisation), order.po_number.strip())


def issue_invoice(registrations, at=None, by=None, lines=None):
    """Issue one invoice for `registrations` (one, or several) and return it, documents stored.

    One line per participant at the price and VAT agreed when they signed up (never the
    edition's current price). The customer is their order's: several orders combine only
    when they name the same organisation and reference (and edition); the invoice then takes
    the details of the earliest order. For a single registration, `lines` splits its line into
    components with their own rate (e.g. meals at 9%), as
    [(description, quantity, unit price excl. VAT, VAT rate)]. An exemption agreed at sign-up
    puts a participant's lines at 0%.

    The customer's details come from the organisation the order is linked to in the register
    (Order.invoice_details), each falling back to what the booker typed; the invoice freezes
    them as they are now, and the organisation's payment term when it has one.

    Refused (InvoiceRefused) while the issuer is incomplete, for anyone who is not a
    confirmed participant (waiting list, cancelled), for anyone already on an invoice that
    was not credited, and for an order held for invoicing (Order.invoicing_blocker, the
    reason in the refusal).
    """
    if isinstance(registrations, Registration):
        registrations = [registrations]
    at = at or timezone.now()
    invoice_date = amsterdam_date(at)
    with transaction.atomic():
        # Lock the registrations so two clicks cannot both issue an invoice for one of them.
        participants = list(
            Registration.objects.select_for_update()
            .filter(pk__in=[registration.pk for registration in registrations])
            .select_related("edition", "order")
            .order_by("order__created_at", "order_id", "pk")
        )
        if not participants:
            raise InvoiceRefused("Er is niemand om te factureren.")
        if lines is not None and len(participants) != 1:
            raise InvoiceRefused("Eigen factuurregels kunnen alleen voor één deelnemer.")
        for registration in participants:
            if registration.status != Registration.Status.CONFIRMED:
                raise InvoiceRefused(
                    f"{registration.reference} is {registration.get_status_display()}: alleen "
                    "bevestigde deelnemers krijgen een factuur."
                )
            current = Invoice.objects.for_registration(registration).uncredited().first()
            if current:
                raise InvoiceRefused(
                    f"{registration.reference} heeft al factuur {current.number}. Maak eerst "
                    "een creditfactuur als die moet worden vervangen."
                )
        first = participants[0]
        orders = {registration.order_id: registration.order for registration in participants}
        if len({registration.edition_id for registration in participants}) > 1:
            raise InvoiceRefused("Eén factuur is voor één editie; kies deelnemers van één editie.")
        if len({_same_customer_key(order) for order in orders.values()}) > 1:
            raise InvoiceRefused(
                "Samen factureren kan alleen bij dezelfde factuurorganisatie en hetzelfde "
                "kenmerk (inkoopordernummer). "
                + "; ".join(
                    f"{order.reference}: {order.invoice_organisation}, kenmerk "
                    f"{order.po_number or '(geen)'}"
                    for order in orders.values()
                )
            )
        for held in orders.values():
            blocker = held.invoicing_blocker()
            if blocker:
                raise InvoiceRefused(f"{held.reference} wacht op factuurgegevens: {blocker}")
        issuer = _ready_issuer()
        edition = first.edition
        order = first.order
        # The customer as the register knows them now, else as typed; frozen on the invoice.
        customer = order.invoice_details()
        payment_term_days = customer.payment_term_days or issuer.payment_term_days
        if lines is None:
            lines = [
                (line_description(r), 1, r.price_excl_vat, r.vat_rate, r) for r in participants
            ]
        else:
            lines = [(*line, first) for line in lines]
        invoice_lines = [
            InvoiceLine(
                position=position,
                registration=registration,
                description=description,
                quantity=Decimal(quantity),
                unit_price=round_cents(unit_price),
                vat_rate=Decimal("0.00") if registration.vat_exempt else Decimal(rate),
                amount_excl_vat=round_cents(Decimal(quantity) * round_cents(unit_price)),
            )
            for position, (description, quantity, unit_price, rate, registration) in enumerate(
                lines, 1
            )
        ]
        exemptions = {r.vat_exemption_text for r in participants if r.vat_exempt}
        series, sequence, number = _next_number(issuer, invoice_date.year, credit=False)
        invoice = Invoice(
            number=number,
            series=series,
            sequence=sequence,
            kind=Invoice.Kind.INVOICE,
            order=order if len(orders) == 1 else None,
            invoice_date=invoice_date,
            due_date=invoice_date + datetime.timedelta(days=payment_term_days),
            supply_start=edition.start_date,
            supply_end=edition.end_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            **_issuer_snapshot(issuer),
            customer_organisation=customer.organisation,
            customer_attention=customer.attention,
            customer_street=customer.street,
            customer_postcode=customer.postcode,
            customer_city=customer.city,
            customer_country=customer.country.code,
            customer_country_name=customer.country.name,
            customer_email=customer.email,
            customer_vat_id=customer.vat_id,
            customer_kvk_number=customer.kvk_number,
            customer_oin=customer.oin,
            customer_peppol_id=customer.peppol_id,
            po_number=order.po_number,
            payment_reference=number,
            vat_exemption_text="; ".join(sorted(exemptions)),
        )
        invoice = _finish(invoice, invoice_lines)
        text = (
            f"Factuur {invoice.number}: {money(invoice.total_incl_vat)} incl. btw, "
            f"{len(participants)} deelnemer(s)"
        )
        for order_id in orders:
            record(order_id, LOG.INVOICE_ISSUED, text, by=by, at=at)
        return invoice


def invoice_groups(registrations):
    """Which of `registrations` (a queryset) share an invoice, as lists to issue_invoice():
    the confirmed participants not yet invoiced go together per order; anyone else is a group
    of their own, which issuing refuses with the reason. In order and participant order."""
    rows = (
        registrations.annotate(invoiced=on_standing_invoice())
        .select_related("order")
        .order_by("order_id", "pk")
    )
    groups = {}
    for registration in rows:
        ready = registration.status == Registration.Status.CONFIRMED and not registration.invoiced
        key = ("order", registration.order_id) if ready else ("alone", registration.pk)
        groups.setdefault(key, []).append(registration)
    return list(groups.values())


def group_of(registration, registrations):
    """The group of invoice_groups(registrations) that `registration` is in (itself alone
    when it is not among them)."""
    among = registrations.filter(order_id=registration.order_id)
    for group in invoice_groups(among):
        if any(member.pk == registration.pk for member in group):
            return group
    return [registration]


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
        if original.is_credited:
            raise InvoiceRefused(f"Factuur {original.credit_text()}.")
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
            order_id=original.order_id,
            invoice_date=credit_date,
            due_date=credit_date,
            issued_at=at,
            issued_by=getattr(by, "username", "") or "",
            payment_reference=original.number,
            # The pair shares its money (payments' settle() keeps both rows alike from here):
            # what was paid on the invoice is now to be refunded.
            amount_paid=original.amount_paid,
            amount_refunded=original.amount_refunded,
        )
        lines = [
            InvoiceLine(
                position=line.position,
                registration_id=line.registration_id,
                description=line.description,
                quantity=line.quantity,
                unit_price=-line.unit_price,
                vat_rate=line.vat_rate,
                amount_excl_vat=-line.amount_excl_vat,
            )
            for line in original.lines.all()
        ]
        credit = _finish(credit, lines)
        record_for_invoice(
            original,
            LOG.CREDITED,
            f"Factuur {original.number} gecrediteerd met creditfactuur {credit.number}",
            by=by,
            at=at,
        )
        return credit


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


def correct_and_reissue(invoice, changes=None, at=None, by=None):
    """The correction path of a standing invoice, all or nothing: credit it, apply `changes`
    (field -> value) to the orders of its participants (invoice details) or, for the agreed
    price, to the registration it names (`changes["registration"]`), and issue a new invoice
    for its participants who are still confirmed. A cancelled participant's invoice is
    replaced this way too, without changes.

    Returns (credit note, new invoice or None when nobody on it still comes).
    """
    changes = dict(changes or {})
    target = changes.pop("registration", None)
    with transaction.atomic():
        current = Invoice.objects.select_for_update().get(pk=invoice.pk)
        if current.is_settled_by_credit:
            raise InvoiceRefused(f"{current.credit_text()}; er is niets te corrigeren.")
        on_it = InvoiceLine.objects.filter(invoice=current).values("registration_id")
        participants = list(
            Registration.objects.select_for_update().filter(pk__in=on_it).order_by("pk")
        )
        credit = credit_invoice(current, at=at, by=by)
        order_changes = {k: v for k, v in changes.items() if k not in AGREED_PRICE_FIELDS}
        price_changes = {k: v for k, v in changes.items() if k in AGREED_PRICE_FIELDS}
        if order_changes:
            for order in Order.objects.filter(positions__in=participants).distinct():
                for field, value in order_changes.items():
                    setattr(order, field, value)
                order.full_clean()
                order.save()
        if price_changes:
            registration = next(
                (r for r in participants if r.pk == getattr(target, "pk", None)), None
            )
            if registration is None:
                raise InvoiceRefused(
                    f"De afgesproken prijs verandert per deelnemer; kies een deelnemer van "
                    f"factuur {current.number}."
                )
            for field, value in price_changes.items():
                setattr(registration, field, value)
            registration.full_clean()
            registration.save()
        staying = [r for r in participants if r.status == Registration.Status.CONFIRMED]
        if not staying:
            return credit, None
        return credit, issue_invoice(staying, at=at, by=by)
