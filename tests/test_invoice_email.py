"""The invoice e-mail: the stored PDF attached, to the invoice address, date recorded."""

import datetime
import smtplib

import pytest
from django.core import mail

from registrations.invoicing import emails, pdf
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from tests.conftest import make_registration, stored_pdf

AT = datetime.datetime(2022, 9, 12, 10, 0, tzinfo=datetime.UTC)


@pytest.fixture
def invoice(invoicing, open_edition):
    return issue_invoice(make_registration(open_edition), at=AT)


def test_invoice_mail_attaches_the_stored_pdf(invoice, monkeypatch):
    monkeypatch.setattr(pdf, "render_invoice", lambda invoice: pytest.fail("no new render"))
    assert emails.send_invoice(invoice) is True
    message = mail.outbox[0]
    assert message.to == ["facturen@utrecht.example.nl"]
    assert message.reply_to == ["facturen@platform31.example.nl"]
    assert message.subject == "Factuur 2022-0001 van Platform31"
    name, content, mimetype = message.attachments[0]
    assert (name, mimetype) == ("factuur-2022-0001.pdf", "application/pdf")
    assert content == stored_pdf(invoice)
    assert "€ 2.178,00" in message.body
    assert "12 oktober 2022" in message.body
    assert "Betalingskenmerk: 2022-0001" in message.body
    assert "PO-2022-0042" in message.body
    html = message.alternatives[0][0]
    assert "€ 2.178,00" in html
    invoice.refresh_from_db()
    assert invoice.emailed_at is not None


def test_credit_note_mail_names_the_original(invoice):
    credit = credit_invoice(invoice, at=AT)
    emails.send_invoice(credit)
    message = mail.outbox[0]
    assert message.subject == "Creditfactuur 2022-0002 van Platform31"
    assert "Deze creditfactuur crediteert factuur 2022-0001." in message.body
    assert "vervalt" not in message.body
    assert "Deze creditfactuur crediteert factuur 2022-0001." in message.alternatives[0][0]
    # A credit note is called one in its file names too.
    assert [name for name, _, _ in message.attachments] == [
        "creditfactuur-2022-0002.pdf",
        "creditfactuur-2022-0002.xml",
    ]


def test_mail_server_failure_is_reported_and_not_recorded(invoice, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("weg")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    assert emails.send_invoice(invoice) is False
    invoice.refresh_from_db()
    assert invoice.emailed_at is None
