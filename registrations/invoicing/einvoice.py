"""The e-invoice: a UBL 2.1 Invoice or CreditNote per SI-UBL 2.0 (NLCIUS on EN 16931), and its
validation with the official rule sets.

Made from the invoice's frozen snapshot alone (never the live registration), so the same
invoice always gives the same bytes. Validation runs the published XSLT rule files (SI-UBL 2.0
and EN 16931 for UBL) from settings.EINVOICE_RULES_DIR with Saxon; the project keeps no copy
of them. saxonche is imported on first use, like WeasyPrint: it costs time to load, which
processes that never validate should not pay.
"""

import atexit
import threading
import xml.etree.ElementTree as ET
from collections import namedtuple
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django_countries import countries

from registrations.models import Registration

from .models import InvoiceRefused, vat_breakdown

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
SVRL = "http://purl.oclc.org/dsdl/svrl"
ET.register_namespace("cac", CAC)
ET.register_namespace("cbc", CBC)

CURRENCY = "EUR"
# ISO 6523 schemes of Dutch identifiers (BR-NL-1, BR-NL-10).
KVK_SCHEME = "0106"
OIN_SCHEME = "0190"
# SEPA credit transfer (BR-NL-12 allows it).
SEPA_CREDIT_TRANSFER = "58"
# UN/ECE rec 20 "one": the quantity is a count of participants or components.
UNIT = "C62"

# The official rule files, by the name the findings carry.
RULE_SETS = {"si-ubl-2.0": "si-ubl-2.0.xsl", "en16931": "EN16931-UBL-validation.xslt"}
# What finance can do about a finding they may meet; other rule ids are shown as they are.
ADVICE = {
    "BR-NL-10": "vul bij de inschrijving het KvK-nummer of OIN van de klant in",
    "BR-NL-1": "vul bij 'Factuurafzender' het KvK-nummer in",
}

Finding = namedtuple("Finding", "rule_set rule flag text")


def _amount(value):
    # "+ 0" turns a negative zero (a credited 0.00) into 0.00.
    return f"{Decimal(value) + 0:.2f}"


def _sub(parent, namespace, tag, text=None, **attributes):
    element = ET.SubElement(parent, f"{{{namespace}}}{tag}", attributes)
    if text is not None:
        element.text = str(text)
    return element


def _first_participant(lines):
    """The registration of the first of `lines` (in their order) that names one."""
    return Registration(pk=next(line.registration_id for line in lines if line.registration_id))


def _cbc(parent, tag, text=None, **attributes):
    return _sub(parent, CBC, tag, text, **attributes)


def _cac(parent, tag):
    return _sub(parent, CAC, tag)


def _money(parent, tag, value):
    return _cbc(parent, tag, _amount(value), currencyID=CURRENCY)


def country_code(name):
    """The ISO code of the issuer's country: the snapshot holds its name, as printed."""
    for language in ("nl", "en"):
        code = countries.by_name(name, language=language)
        if code:
            return code
    return name


def _category(invoice, rate):
    """VAT category: E (exempt, with its reason), S (standard) or Z (zero rated)."""
    if invoice.vat_exemption_text:
        return "E"
    return "S" if rate else "Z"


def _tax_category(parent, tag, invoice, rate, reason=False):
    category = _cac(parent, tag)
    _cbc(category, "ID", _category(invoice, rate))
    _cbc(category, "Percent", f"{rate:.2f}")
    if reason and invoice.vat_exemption_text:
        _cbc(category, "TaxExemptionReason", invoice.vat_exemption_text)
    _cbc(_cac(category, "TaxScheme"), "ID", "VAT")


def _address(party, street, postcode, city, country):
    address = _cac(party, "PostalAddress")
    _cbc(address, "StreetName", street)
    _cbc(address, "CityName", city)
    _cbc(address, "PostalZone", postcode)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)


def _supplier(root, invoice):
    party = _cac(_cac(root, "AccountingSupplierParty"), "Party")
    _cbc(party, "EndpointID", invoice.issuer_kvk_number, schemeID=KVK_SCHEME)
    _cbc(_cac(party, "PartyName"), "Name", invoice.issuer_name)
    _address(
        party,
        invoice.issuer_street,
        invoice.issuer_postcode,
        invoice.issuer_city,
        country_code(invoice.issuer_country),
    )
    tax = _cac(party, "PartyTaxScheme")
    _cbc(tax, "CompanyID", invoice.issuer_vat_id)
    _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", invoice.issuer_name)
    _cbc(legal, "CompanyID", invoice.issuer_kvk_number, schemeID=KVK_SCHEME)
    if invoice.issuer_email:
        _cbc(_cac(party, "Contact"), "ElectronicMail", invoice.issuer_email)


def _customer(root, invoice):
    party = _cac(_cac(root, "AccountingCustomerParty"), "Party")
    if invoice.customer_peppol_id:
        scheme, _, identifier = invoice.customer_peppol_id.partition(":")
        _cbc(party, "EndpointID", identifier, schemeID=scheme)
    _cbc(_cac(party, "PartyName"), "Name", invoice.customer_organisation)
    _address(
        party,
        invoice.customer_street,
        invoice.customer_postcode,
        invoice.customer_city,
        invoice.customer_country,
    )
    if invoice.customer_vat_id:
        tax = _cac(party, "PartyTaxScheme")
        _cbc(tax, "CompanyID", invoice.customer_vat_id)
        _cbc(_cac(tax, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", invoice.customer_organisation)
    # A public body that gave its OIN is known by it in government systems; else the KvK.
    if invoice.customer_oin:
        _cbc(legal, "CompanyID", invoice.customer_oin, schemeID=OIN_SCHEME)
    elif invoice.customer_kvk_number:
        _cbc(legal, "CompanyID", invoice.customer_kvk_number, schemeID=KVK_SCHEME)
    contact = _cac(party, "Contact")
    if invoice.customer_attention:
        _cbc(contact, "Name", invoice.customer_attention)
    _cbc(contact, "ElectronicMail", invoice.customer_email)


def render_ubl(invoice):
    """The UBL bytes of an issued invoice or credit note, from its snapshot alone.

    A credit note is a UBL CreditNote with positive amounts (UBL's rule), where our stored
    amounts are negative; it refers to the invoice it credits.
    """
    credit = invoice.is_credit_note
    sign = Decimal(-1) if credit else Decimal(1)
    lines = invoice.ordered_lines()
    # The document element in the default namespace, as UBL examples write it (ElementTree
    # would otherwise invent a prefix for it).
    root = ET.Element(
        "CreditNote" if credit else "Invoice", xmlns=CREDIT_NOTE_NS if credit else INVOICE_NS
    )
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.invoice_date.isoformat())
    if credit:
        _cbc(root, "CreditNoteTypeCode", "381")
    else:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", "380")
    _cbc(root, "DocumentCurrencyCode", CURRENCY)
    if invoice.po_number:
        _cbc(root, "BuyerReference", invoice.po_number)
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", invoice.supply_start.isoformat())
    _cbc(period, "EndDate", invoice.supply_end.isoformat())
    if not invoice.po_number:
        # BR-NL-2: without the buyer's reference, our own: that of the first participant on
        # it (as before orders, so an older invoice's e-invoice is made again byte for byte).
        _cbc(_cac(root, "OrderReference"), "ID", _first_participant(lines).reference)
    if credit:
        # The credited invoice's number; its date is left out, as SI-UBL advises (BR-NL-24):
        # our numbers are unique.
        document = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(document, "ID", invoice.credited_invoice.number)
    _supplier(root, invoice)
    _customer(root, invoice)
    if not credit:
        # A credit note is paid back, not paid to us: no payment instructions on it.
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", SEPA_CREDIT_TRANSFER)
        _cbc(means, "PaymentID", invoice.payment_reference)
        # IBAN only: SI-UBL advises against a BIC for SEPA (BR-NL-31); the PDF shows it.
        _cbc(_cac(means, "PayeeFinancialAccount"), "ID", invoice.issuer_iban)

    breakdown = vat_breakdown(lines)
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", sign * invoice.total_vat)
    for rate, base, vat in breakdown:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", sign * base)
        _money(subtotal, "TaxAmount", sign * vat)
        _tax_category(subtotal, "TaxCategory", invoice, rate, reason=True)
    totals = _cac(root, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", sign * invoice.total_excl_vat)
    _money(totals, "TaxExclusiveAmount", sign * invoice.total_excl_vat)
    _money(totals, "TaxInclusiveAmount", sign * invoice.total_incl_vat)
    _money(totals, "PayableAmount", sign * invoice.total_incl_vat)

    for line in lines:
        element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(element, "ID", line.position)
        _cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            f"{line.quantity:.2f}",
            unitCode=UNIT,
        )
        _money(element, "LineExtensionAmount", sign * line.amount_excl_vat)
        item = _cac(element, "Item")
        _cbc(item, "Description", line.description)
        _cbc(item, "Name", line.description.splitlines()[0])
        _tax_category(item, "ClassifiedTaxCategory", invoice, line.vat_rate)
        _money(_cac(element, "Price"), "PriceAmount", sign * line.unit_price)

    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True) + b"\n"


_lock = threading.Lock()
_compiled = {}


def rules_dir():
    """The folder with the official rule files, or None: then e-invoices are not validated."""
    return Path(settings.EINVOICE_RULES_DIR) if settings.EINVOICE_RULES_DIR else None


def _stylesheets(directory):
    """The Saxon processor and the compiled rule sets, made once per process (compiling costs
    most of a second each) and again only when the folder or a file in it changed."""
    from saxonche import PySaxonProcessor

    files = {name: directory / file for name, file in RULE_SETS.items()}
    key = (directory, tuple(path.stat().st_mtime_ns for path in files.values()))
    if _compiled.get("key") != key:
        if "processor" not in _compiled:
            # Release Saxon before the interpreter tears down what its finaliser needs.
            atexit.register(_compiled.clear)
        processor = _compiled.get("processor") or PySaxonProcessor(license=False)
        compiler = processor.new_xslt30_processor()
        _compiled.update(
            key=key,
            processor=processor,
            stylesheets={
                name: compiler.compile_stylesheet(stylesheet_file=str(path))
                for name, path in files.items()
            },
        )
    return _compiled


def findings(content, directory=None):
    """Every failed assertion of both rule sets for the UBL `content`, as Findings.

    Runs one document at a time: one Saxon processor serves the whole process.
    """
    directory = Path(directory) if directory else rules_dir()
    with _lock:
        compiled = _stylesheets(directory)
        document = compiled["processor"].parse_xml(xml_text=content.decode("utf-8"))
        reports = {
            name: stylesheet.transform_to_string(xdm_node=document)
            for name, stylesheet in compiled["stylesheets"].items()
        }
    found = []
    for name, report in reports.items():
        for failed in ET.fromstring(report).iter(f"{{{SVRL}}}failed-assert"):
            text = " ".join(failed.findtext(f"{{{SVRL}}}text", "").split())
            found.append(Finding(name, failed.get("id", ""), failed.get("flag", "fatal"), text))
    return found


def counts(found):
    """{rule set: {"fatal": n, "warning": n}}, for reports."""
    result = {name: {"fatal": 0, "warning": 0} for name in RULE_SETS}
    for finding in found:
        flag = "fatal" if finding.flag == "fatal" else "warning"
        result[finding.rule_set][flag] += 1
    return result


def refuse_when_invalid(invoice, content):
    """Refuse (InvoiceRefused) an e-invoice with a fatal finding; nothing when no rules are
    configured. Called inside the issuing transaction, so a refusal stores nothing."""
    if rules_dir() is None:
        return
    rules = sorted({f.rule for f in findings(content) if f.flag == "fatal"})
    if not rules:
        return
    what = (
        f"De creditfactuur voor {invoice.credited_invoice.number}"
        if invoice.is_credit_note
        else f"De factuur voor {_first_participant(invoice.ordered_lines()).reference}"
    )
    advice = [ADVICE[rule] for rule in rules if rule in ADVICE]
    raise InvoiceRefused(
        f"{what} is niet aangemaakt: de e-factuur voldoet niet aan de regels "
        f"({', '.join(rules)})."
        + (f" Oplossing: {'; '.join(advice)}." if advice else "")
        + " Er is niets opgeslagen en geen factuurnummer gebruikt."
    )
