from decimal import Decimal, InvalidOperation

from django import forms
from django.db.models import Q

from registrations.invoicing.models import Invoice

from .matching import MAX_STATEMENT_BYTES, open_first, references_in


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
        help_text="Factuurnummer, klant, naam van een deelnemer of besteller, referentie "
        "(BST-00042, INS-00006) of bedrag (2.178,00).",
    )

    def invoices(self):
        """Up to 20 invoices and credit notes by number, customer, a participant's or the
        booker's name, an order's or participant's reference, or amount; open ones first."""
        query = self.cleaned_data.get("q", "").strip() if self.is_valid() else ""
        if not query:
            return Invoice.objects.none()
        condition = Q(number__icontains=query) | Q(customer_organisation__icontains=query)
        words = query.split()
        for person in ("lines__registration__", "lines__registration__order__"):
            # Every word in the first or last name: "Fatima El Amrani", "amrani".
            name = Q()
            for word in words:
                name &= Q(**{f"{person}first_name__icontains": word}) | Q(
                    **{f"{person}last_name__icontains": word}
                )
            condition |= name
        for kind, pk in references_in([query]):
            if kind == "BST":
                condition |= Q(order_id=pk) | Q(lines__registration__order_id=pk)
            else:
                condition |= Q(lines__registration_id=pk)
        amount = parse_amount(query)
        if amount is not None:
            condition |= Q(total_incl_vat=amount) | Q(total_incl_vat=-amount)
        found = Invoice.objects.filter(condition).values("pk")
        return open_first(Invoice.objects.filter(pk__in=found))[:20]


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
