"""The access point we send through, behind a small interface: send, status (events), and
discovery. One adapter: Storecove's REST API v2 (https://www.storecove.com/docs/, OpenAPI
https://www.storecove.com/api/v2/openapi.json).

- send: POST /document_submissions with our stored UBL (base64, parseStrategy "ubl"), routed
  to the buyer's Peppol identifier, with `idempotencyGuid` so a repeat of the same
  submission is never delivered twice. 200 answers {"guid": ...}; 422 a list of errors
  [{"source", "details"}], the access point's verdict.
- status: Storecove queues its webhook events; GET /webhook_instances/ gives the oldest
  (200, {"guid", "body"}) or 204 when none is left, DELETE /webhook_instances/{guid}
  acknowledges it. We fetch them over our own authenticated connection, so there is no
  public URL to forge a status on.
- discovery: POST /discovery/receives answers {"code": "OK"} when the receiver is
  registered on Peppol for invoices.

The API key is read from settings (the environment) and sent only in the Authorization
header; it is never logged nor put in an error text.
"""

import base64
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings

logger = logging.getLogger(__name__)

# Peppol EAS codes as Storecove names the schemes.
SCHEMES = {"0190": "NL:OINO", "0106": "NL:KVK", "9944": "NL:VAT"}


class Retryable(Exception):
    """Not taken this time (network, timeout, 429, 5xx): try again later."""

    def __init__(self, text, retry_after=None, http_status=None):
        super().__init__(text)
        self.retry_after = retry_after
        self.http_status = http_status


class Refused(Exception):
    """The access point's own verdict on the document: final, with its rules."""

    def __init__(self, text, rules, http_status=None):
        super().__init__(text)
        self.rules = rules
        self.http_status = http_status


@dataclass
class Event:
    """A status report: `kind` is one of delivered, failed, accepted, rejected."""

    event_id: str
    kind: str
    message_id: str = ""
    rules: list = field(default_factory=list)
    body: dict = field(default_factory=dict)


def configured():
    return bool(settings.PEPPOL_API_KEY)


def _retry_after(value):
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return None


class Storecove:
    def __init__(self):
        self.base = settings.PEPPOL_API_URL.rstrip("/")
        self.timeout = settings.PEPPOL_TIMEOUT

    def _request(self, method, path, payload=None):
        """(status, parsed body) of one request; Retryable for what is worth trying again."""
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            f"{self.base}{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {settings.PEPPOL_API_KEY}",
                "Content-Type": "application/json",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
            if status == 429 or status >= 500:
                raise Retryable(
                    f"accesspoint antwoordde HTTP {status}",
                    retry_after=_retry_after(error.headers.get("Retry-After")),
                    http_status=status,
                ) from None
            if status in (401, 403):
                # Our key, not the document: finance cannot fix it, the next try may work
                # once the key is set right.
                raise Retryable(
                    f"accesspoint weigert de API-sleutel (HTTP {status})", http_status=status
                ) from None
        except TimeoutError:
            raise Retryable("accesspoint antwoordde niet op tijd") from None
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Retryable(f"accesspoint onbereikbaar ({type(reason).__name__})") from None
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        return status, body

    def send(self, document, receiver, idempotency_key, credit_note=False):
        """Hand over `document` (UBL bytes) for `receiver` ("0190:..."); the provider's
        message id. Raises Retryable or Refused."""
        scheme, _, identifier = receiver.partition(":")
        payload = {
            "legalEntityId": int(settings.PEPPOL_LEGAL_ENTITY_ID or 0),
            "idempotencyGuid": str(idempotency_key),
            "routing": {
                "eIdentifiers": [{"scheme": SCHEMES.get(scheme, scheme), "id": identifier}]
            },
            "document": {
                "documentType": "creditnote" if credit_note else "invoice",
                "rawDocumentData": {
                    "document": base64.b64encode(document).decode("ascii"),
                    "parseStrategy": "ubl",
                },
            },
        }
        status, body = self._request("POST", "/document_submissions", payload)
        if status == 200 and isinstance(body, dict) and body.get("guid"):
            return body["guid"]
        if status == 422 or 400 <= status < 500:
            rules = [
                " ".join(str(part) for part in (e.get("source"), e.get("details")) if part)
                for e in (body if isinstance(body, list) else (body or {}).get("errors", []))
                if isinstance(e, dict)
            ]
            raise Refused(f"accesspoint weigerde het document (HTTP {status})", rules, status)
        raise Retryable(f"onverwacht antwoord van het accesspoint (HTTP {status})", None, status)

    def receives(self, receiver):
        """Whether `receiver` is registered on Peppol for invoices (discovery)."""
        scheme, _, identifier = receiver.partition(":")
        status, body = self._request(
            "POST",
            "/discovery/receives",
            {
                "documentTypes": ["invoice"],
                "network": "peppol",
                "metaScheme": "iso6523-actorid-upis",
                "scheme": SCHEMES.get(scheme, scheme),
                "identifier": identifier,
            },
        )
        return status == 200 and isinstance(body, dict) and body.get("code") == "OK"

    def next_event(self):
        """The oldest queued event, or None when the queue is empty."""
        status, body = self._request("GET", "/webhook_instances/")
        if status == 204 or not isinstance(body, dict):
            return None
        return parse_event(body)

    def acknowledge(self, event):
        self._request("DELETE", f"/webhook_instances/{event.event_id}")


def parse_event(instance):
    """An Event from a webhook instance {"guid", "body"}; its body is a JSON text.

    A submission event {"event_type": "document_submission", "event": "succeeded" |
    "failed", "guid", "details"} says whether the document reached the buyer's access
    point. The buyer's Peppol invoice response ("event_type": "invoice_response", with
    "status" AP/RE and "reasons") is their verdict; other codes only say it is in progress.
    """
    body = instance.get("body") or {}
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError:
            body = {}
    kind = ""
    event_type, event = body.get("event_type"), body.get("event")
    message_id = body.get("document_submission_guid") or body.get("guid") or ""
    rules = []
    if event_type == "document_submission":
        kind = {"succeeded": "delivered", "failed": "failed"}.get(event, "")
        if body.get("details"):
            rules = [str(body["details"])]
    elif event_type == "invoice_response":
        kind = {"AP": "accepted", "RE": "rejected"}.get(body.get("status"), "")
        rules = [str(reason) for reason in body.get("reasons", [])]
    return Event(str(instance.get("guid", "")), kind, message_id, rules, body)


def access_point():
    return Storecove()
