from decimal import Decimal, InvalidOperation

from django import forms
from django.db.models import Q

from registrations.invoicing.models import Invoice

from .matching import MAX_STATEMENT_BYTES


class StatementUploadForm(forms.Form):
    file = forms.FileField(
        label="Bankafschrift (CAMT.053)",
        help_text="Het XML-bestand dat je bij de bank downloadt als CAMT.053-afschrift.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_STATEMENT_BYTES:
            raise forms.ValidationError(
                f"Dit bestand is groter dan {MAX_STATEMENT_BYTES // (1024 * 1024)} MB; een "
                "maandafschrift is veel kleiner."
            )
        return upload


def parse_amount(text):
    """'2.178,00', '2178,00', '€ 2178.00' -> Decimal('2178.00'); None if it is no amount."""
    text = text.replace("€", "").replace(" ", "").strip()
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


class InvoiceSearchForm(forms.Form):
    q = forms.CharField(
        label="Zoek factuur",
        required=False,
        max_length=100,
        help_text="Factuurnummer, naam van de klant of bedrag (2.178,00).",
    )

    def invoices(self):
        """Up to 20 invoices and credit notes by number, customer or amount."""
        query = self.cleaned_data.get("q", "").strip() if self.is_valid() else ""
        if not query:
            return Invoice.objects.none()
        condition = Q(number__icontains=query) | Q(customer_organisation__icontains=query)
        amount = parse_amount(query)
        if amount is not None:
            condition |= Q(total_incl_vat=amount) | Q(total_incl_vat=-amount)
        return (
            Invoice.objects.filter(condition)
            .select_related("credit_note", "credited_invoice")
            .order_by("-invoice_date", "-number")[:20]
        )


class AssignForm(forms.Form):
    invoices = forms.ModelMultipleChoiceField(
        label="Factuur",
        queryset=Invoice.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Kies de factuur waarvoor deze betaling is."},
    )


class NotOursForm(forms.Form):
    reason = forms.CharField(label="Waarom niet van ons?", max_length=300, required=False)


class HoldForm(forms.Form):
    reason = forms.CharField(
        label="Reden",
        max_length=300,
        help_text="Bijvoorbeeld: gemeente betaalt na afloop, afgesproken met de crediteurenadministratie.",
        error_messages={"required": "Schrijf op waarom er geen herinnering mag uitgaan."},
    )


class TransferForm(forms.Form):
    target = forms.CharField(
        label="Naar factuur (nummer)",
        max_length=40,
        help_text="De nieuwe factuur waarmee het betaalde bedrag wordt verrekend.",
    )

    def clean_target(self):
        number = self.cleaned_data["target"].strip()
        invoice = Invoice.objects.filter(number__iexact=number).first()
        if invoice is None:
            raise forms.ValidationError(f"Er is geen factuur met nummer {number}.")
        return invoice
