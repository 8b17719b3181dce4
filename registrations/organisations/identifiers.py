"""How an organisation is identified: KvK number, OIN, Peppol ID, and its name as a key.

The one home of these rules: the sign-up's order, the organisation register and invoicing
all check and derive identifiers here.
"""

import re

from django.core.exceptions import ValidationError

# ISO 6523 schemes of Dutch identifiers (BR-NL-1, BR-NL-10 of SI-UBL 2.0).
KVK_SCHEME = "0106"
OIN_SCHEME = "0190"


def validate_kvk_number(value):
    # python-stdnum has no Dutch KvK module: a KvK number is 8 digits, without a check digit.
    if not (len(value) == 8 and value.isdigit()):
        raise ValidationError("Een KvK-nummer bestaat uit 8 cijfers.")


def validate_oin(value):
    if not (len(value) == 20 and value.isdigit()):
        raise ValidationError("Een OIN bestaat uit precies 20 cijfers.")


def validate_peppol_id(value):
    """scheme:identifier, the scheme an ISO 6523 code of 4 digits (0106 KvK, 0190 OIN, ...)."""
    scheme, _, identifier = value.partition(":")
    valid = re.fullmatch(r"\d{4}", scheme) and re.fullmatch(r"[A-Za-z0-9._\-]{1,50}", identifier)
    if valid and scheme == KVK_SCHEME:
        valid = len(identifier) == 8 and identifier.isdigit()
    if valid and scheme == OIN_SCHEME:
        valid = len(identifier) == 20 and identifier.isdigit()
    if not valid:
        raise ValidationError(
            "Een Peppol-ID heeft de vorm schema:nummer, bijvoorbeeld 0106:12345678 (KvK-nummer) "
            "of 0190: gevolgd door het OIN van 20 cijfers."
        )


def kvk_and_oin(kvk_number, oin, peppol_id):
    """(KvK number, OIN) as given, or else as the Peppol ID names them (0106:..., 0190:...):
    a buyer reached at 0106:12345678 is KvK 12345678, which BR-NL-10 asks for."""
    scheme, _, identifier = (peppol_id or "").partition(":")
    return (
        kvk_number or (identifier if scheme == KVK_SCHEME else ""),
        oin or (identifier if scheme == OIN_SCHEME else ""),
    )


def electronic_address(kvk_number, oin, peppol_id):
    """Where an e-invoice reaches the buyer (its EndpointID, as Peppol ID "scheme:number"): the
    Peppol ID given, else the OIN (0190), else the KvK number (0106); "" without any."""
    if peppol_id:
        return peppol_id
    if oin:
        return f"{OIN_SCHEME}:{oin}"
    if kvk_number:
        return f"{KVK_SCHEME}:{kvk_number}"
    return ""


def name_key(name):
    """The name an organisation is recognised by: case and extra spaces ignored ("Gemeente
    utrecht " is "gemeente utrecht")."""
    return " ".join((name or "").casefold().split())
