"""Reading a CAMT.053 bank statement (ISO 20022 bank-to-customer statement), as Dutch banks
export it: camt.053.001.02 (ING, Rabobank, ABN AMRO for years) up to .001.08 and later.

Parsed with defusedxml: a DTD, entity declarations (billion laughs) and external references
(XXE) are refused before anything is expanded or fetched. Every problem is a StatementRefused
with a Dutch message; the caller stores nothing then.
"""

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import ParseError
from xml.parsers.expat import errors as expat_errors

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from stdnum import iso11649

NAMESPACE = re.compile(r"\{urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d\d)\}Document")
TRUNCATED = {
    expat_errors.codes[expat_errors.XML_ERROR_NO_ELEMENTS],
    expat_errors.codes[expat_errors.XML_ERROR_UNCLOSED_TOKEN],
    expat_errors.codes[expat_errors.XML_ERROR_PARTIAL_CHAR],
    expat_errors.codes[expat_errors.XML_ERROR_UNCLOSED_CDATA_SECTION],
}
ENCODING = {
    expat_errors.codes[expat_errors.XML_ERROR_INVALID_TOKEN],
    expat_errors.codes[expat_errors.XML_ERROR_UNKNOWN_ENCODING],
    expat_errors.codes[expat_errors.XML_ERROR_INCORRECT_ENCODING],
}


class StatementRefused(Exception):
    """The file cannot be read in; the message says why, in Dutch."""


@dataclass
class Entry:
    """One payment on a statement: an entry, or one transaction of a batch entry."""

    amount: Decimal  # positive: money in; negative: money out
    booking_date: object
    account_iban: str
    bank_reference: str
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    references: list = field(default_factory=list)  # structured creditor references

    @property
    def key(self):
        return (self.bank_reference, self.account_iban, self.booking_date, self.amount)


@dataclass
class Statement:
    account_iban: str
    statement_ids: list
    entries: list


def _parse_xml(content):
    try:
        return SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as hostile:
        raise StatementRefused(
            "Dit bestand bevat een DTD, entiteiten of externe verwijzingen. Een bankafschrift "
            "heeft die nooit; het is niet ingelezen."
        ) from hostile
    except ParseError as error:
        line = error.position[0] if error.position else "?"
        if error.code in TRUNCATED:
            raise StatementRefused(
                f"Het bestand houdt halverwege op (regel {line}). Download het afschrift "
                "opnieuw bij de bank."
            ) from error
        if error.code in ENCODING:
            raise StatementRefused(
                f"Het bestand bevat tekens die niet kloppen met de tekencodering (regel {line}). "
                "Exporteer het opnieuw als CAMT.053 (UTF-8) bij de bank."
            ) from error
        raise StatementRefused(
            f"Dit is geen leesbaar CAMT.053-bestand (XML-fout op regel {line})."
        ) from error


def parse(content):
    """The statement in `content` (bytes), or StatementRefused."""
    head = content[:200].lstrip(b"\xef\xbb\xbf \r\n\t")
    if head.startswith((b":20:", b"{1:", b":940:")):
        raise StatementRefused(
            "Dit is een MT940-bestand. Exporteer bij de bank het afschrift als CAMT.053 (XML) "
            "en lees dat in."
        )
    if not head.startswith(b"<"):
        raise StatementRefused(
            "Dit is geen CAMT.053-bestand: een bankafschrift in XML begint met '<'. Kies bij "
            "de bank de export CAMT.053."
        )
    root = _parse_xml(content)
    match = NAMESPACE.fullmatch(root.tag)
    if not match:
        raise StatementRefused(
            "Dit XML-bestand is geen CAMT.053-bankafschrift (camt.053.001.xx). Kies bij de bank "
            "de export CAMT.053."
        )
    ns = {"c": root.tag[1:].split("}")[0]}
    statements = root.findall("c:BkToCstmrStmt/c:Stmt", ns)
    if not statements:
        raise StatementRefused("Dit CAMT.053-bestand bevat geen afschrift (Stmt).")
    entries, ids, accounts = [], [], []
    for statement in statements:
        account = _text(statement, "c:Acct/c:Id/c:IBAN", ns).replace(" ", "").upper()
        accounts.append(account)
        ids.append(_text(statement, "c:Id", ns) or _text(statement, "c:ElctrncSeqNb", ns))
        for number, entry in enumerate(statement.findall("c:Ntry", ns), start=1):
            entries.extend(_entry(entry, account, number, ns))
    return Statement(
        account_iban=", ".join(dict.fromkeys(a for a in accounts if a)),
        statement_ids=[i for i in ids if i],
        entries=entries,
    )


def _text(element, path, ns):
    found = element.find(path, ns)
    return (found.text or "").strip() if found is not None else ""


def _amount(element, path, ns, where):
    found = element.find(path, ns)
    if found is None:
        return None
    if (found.get("Ccy") or "EUR") != "EUR":
        raise StatementRefused(
            f"{where} is in {found.get('Ccy')}, niet in euro. Alleen euro-rekeningen kunnen "
            "worden ingelezen."
        )
    try:
        amount = Decimal((found.text or "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount <= 0 or amount.as_tuple().exponent < -2:
        raise StatementRefused(f"{where} heeft geen geldig bedrag ('{found.text}').")
    return amount


def _entry(entry, account, number, ns):
    where = f"Boeking {number}"
    status = _text(entry, "c:Sts/c:Cd", ns) or _text(entry, "c:Sts", ns)
    if status and status != "BOOK":
        return []  # pending or informational: it becomes a payment once it is booked
    amount = _amount(entry, "c:Amt", ns, where)
    if amount is None:
        raise StatementRefused(f"{where} heeft geen bedrag.")
    direction = _text(entry, "c:CdtDbtInd", ns)
    if direction not in ("CRDT", "DBIT"):
        raise StatementRefused(f"{where} zegt niet of het bij- of afschrijving is (CdtDbtInd).")
    sign = 1 if direction == "CRDT" else -1
    booked = _text(entry, "c:BookgDt/c:Dt", ns) or _text(entry, "c:BookgDt/c:DtTm", ns)[:10]
    try:
        booking_date = _date(booked)
    except ValueError:
        raise StatementRefused(f"{where} heeft geen geldige boekdatum ('{booked}').") from None
    entry_reference = _text(entry, "c:AcctSvcrRef", ns)
    details = entry.findall("c:NtryDtls/c:TxDtls", ns)
    batch = len(details) > 1
    if not details:
        details = [None]
    payments = []
    for index, detail in enumerate(details, start=1):
        tx_amount = amount
        if batch:
            tx_amount = _amount(detail, "c:AmtDtls/c:TxAmt/c:Amt", ns, where) or _amount(
                detail, "c:Amt", ns, where
            )
            if tx_amount is None:
                raise StatementRefused(
                    f"{where} is een verzamelboeking zonder bedrag per transactie."
                )
        payments.append(
            _payment(detail, sign * tx_amount, booking_date, account, entry_reference, index, ns)
        )
    if batch and sum(abs(p.amount) for p in payments) != amount:
        raise StatementRefused(
            f"{where}: de transacties van deze verzamelboeking tellen niet op tot het bedrag."
        )
    if batch:
        for index, payment in enumerate(payments, start=1):
            if payment.bank_reference == entry_reference:
                payment.bank_reference = f"{entry_reference}/{index}"
    return payments


def _date(value):
    return datetime.date.fromisoformat(value)


def _payment(detail, amount, booking_date, account, entry_reference, index, ns):
    name = iban = remittance = reference = ""
    references = []
    if detail is not None:
        # The other party: who paid us (Dbtr) or whom we paid (Cdtr). .001.08 wraps the
        # name in Pty.
        party = "Dbtr" if amount > 0 else "Cdtr"
        name = _text(detail, f"c:RltdPties/c:{party}/c:Nm", ns) or _text(
            detail, f"c:RltdPties/c:{party}/c:Pty/c:Nm", ns
        )
        iban = _text(detail, f"c:RltdPties/c:{party}Acct/c:Id/c:IBAN", ns)
        remittance = " ".join(
            (element.text or "").strip() for element in detail.findall("c:RmtInf/c:Ustrd", ns)
        ).strip()
        for element in detail.findall("c:RmtInf/c:Strd/c:CdtrRefInf/c:Ref", ns):
            value = (element.text or "").strip()
            if value:
                references.append(_creditor_reference(value))
        reference = _text(detail, "c:Refs/c:AcctSvcrRef", ns)
        if not reference and not entry_reference:
            end_to_end = _text(detail, "c:Refs/c:EndToEndId", ns)
            reference = "" if end_to_end == "NOTPROVIDED" else end_to_end
    reference = reference or entry_reference
    if not reference:
        # No reference from the bank: the entry's own content identifies it, so the same
        # line on two statements is still stored once.
        digest = hashlib.sha256(
            f"{booking_date}|{amount}|{iban}|{name}|{remittance}|{index}".encode()
        ).hexdigest()
        reference = f"sha256:{digest[:32]}"
    return Entry(
        amount=amount,
        booking_date=booking_date,
        account_iban=account,
        bank_reference=reference[:100],
        counterparty_name=name[:200],
        counterparty_iban=iban.replace(" ", "").upper()[:34],
        remittance=remittance,
        references=references,
    )


def _creditor_reference(value):
    """An RF creditor reference (ISO 11649) without its 'RFnn' check part; any other
    structured reference as written."""
    compact = value.replace(" ", "").upper()
    if compact.startswith("RF") and iso11649.is_valid(compact):
        return compact[4:]
    return value
