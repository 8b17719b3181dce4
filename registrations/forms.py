import re
import secrets

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.urls import reverse
from django.utils import timezone
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as eu_vat
from stdnum.nl import postcode as nl_postcode

from .models import (
    INVOICE_DETAIL_FIELDS,
    PARTICIPANT_FIELDS,
    PARTICIPATION_FIELDS,
    Registration,
)


class RegistrationForm(forms.ModelForm):
    """The public sign-up form. Everything it accepts is validated and normalised here."""

    overnight_stay = forms.TypedChoiceField(
        label="Overnacht je op de locatie?",
        choices=[("ja", "Ja, ik overnacht op de locatie"), ("nee", "Nee, ik overnacht niet")],
        coerce=lambda value: value == "ja",
        widget=forms.RadioSelect,
        initial="ja",
        help_text="Het arrangement is inclusief verblijf.",
    )
    accept_terms = forms.BooleanField(
        label="Ik ga akkoord met de voorwaarden en annuleringsregeling hierboven.",
        error_messages={"required": "Ga akkoord met de voorwaarden om in te schrijven."},
    )
    accept_privacy = forms.BooleanField(
        label="Ik heb de privacyverklaring gelezen en ga akkoord met het gebruik van mijn gegevens.",
        error_messages={"required": "Ga akkoord met de privacyverklaring om in te schrijven."},
    )
    # Longer than 8 here: people copy it as "1234 5678" from letterheads; clean_kvk_number
    # takes the spaces out and the model checks the 8 digits.
    kvk_number = forms.CharField(
        label="KvK-nummer van je organisatie",
        max_length=20,
        required=False,
        help_text="8 cijfers. Verplicht voor een factuuradres in Nederland, tenzij je een OIN invult.",
    )
    # A honeypot: people never see or fill it; simple bots fill every field.
    website = forms.CharField(label="Laat dit veld leeg", required=False, max_length=200)
    # Made fresh for every form page: tells a double-clicked submit from a second sign-up.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Registration
        fields = PARTICIPANT_FIELDS + PARTICIPATION_FIELDS + INVOICE_DETAIL_FIELDS
        labels = {
            "email": "E-mailadres",
            "phone": "Telefoonnummer",
            "own_case": "Je eigen casus of vraag",
            "dietary_needs": "Dieetwensen of allergieën",
            "accessibility_needs": "Toegankelijkheid of andere wensen",
            "invoice_organisation": "Naam organisatie",
            "invoice_email": "E-mailadres voor de factuur",
            "vat_id": "Btw-nummer van je organisatie",
            "oin": "OIN (overheidsorganisaties)",
            "peppol_id": "Peppol-ID (als je organisatie e-facturen via Peppol ontvangt)",
        }
        help_texts = {
            "own_case": (
                "In de werkplaats werk je aan je eigen casuïstiek. Beschrijf kort de opgave of "
                "vraag waar je mee aan de slag wilt (mag later nog veranderen)."
            ),
            "invoice_organisation": "Leeg laten als dit dezelfde organisatie is als hierboven.",
            "invoice_email": "Leeg laten om de factuur naar je eigen e-mailadres te sturen.",
            "invoice_postcode": "Bijvoorbeeld 1234 AB.",
            "po_number": (
                "Staat op de factuur. Veel gemeenten en corporaties betalen alleen facturen "
                "met hun inkoopordernummer."
            ),
            "vat_id": "Alleen als je organisatie dat op de factuur wil, bijvoorbeeld NL123456789B01.",
            "oin": (
                "20 cijfers. Voor gemeenten en andere overheidsorganisaties: vul dit in plaats "
                "van of naast het KvK-nummer in."
            ),
            "peppol_id": "Bijvoorbeeld 0106:12345678 of 0190: gevolgd door het OIN. Mag leeg blijven.",
        }
        widgets = {
            "own_case": forms.Textarea(attrs={"rows": 4}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "organisation": forms.TextInput(attrs={"autocomplete": "organization"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
            "invoice_street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "invoice_postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "invoice_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "invoice_country": forms.Select(attrs={"autocomplete": "country"}),
        }

    def __init__(self, *args, edition, **kwargs):
        super().__init__(*args, **kwargs)
        self.edition = edition
        self.fields["invoice_organisation"].required = False
        self.fields["invoice_email"].required = False
        for name in ("sector", "role"):
            # A visible "choose" option instead of a silently preselected first answer.
            self.fields[name].choices = [("", "Maak een keuze")] + list(self.fields[name].choices)[
                1:
            ]
        for field in self.fields.values():
            field.error_messages.setdefault("required", "Dit veld is verplicht.")
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        if not self.is_bound:
            self.initial["submission_key"] = secrets.token_urlsafe(24)

        self.helper = FormHelper()
        self.helper.form_action = reverse("registrations:register", args=[edition.slug])
        self.helper.form_id = "inschrijfformulier"
        self.helper.attrs = {"novalidate": ""}
        self.helper.form_show_errors = True
        self.helper.layout = Layout(
            Fieldset("Jouw gegevens", *PARTICIPANT_FIELDS),
            Fieldset("Je deelname", *PARTICIPATION_FIELDS),
            Fieldset("Factuurgegevens", *INVOICE_DETAIL_FIELDS),
            Fieldset(
                "Voorwaarden",
                HTML(
                    '{% load programme_text %}<div class="terms">{{ edition.terms|paragraphs }}</div>'
                ),
                "accept_terms",
                HTML(
                    "<p><a href=\"{% url 'programme:privacy' %}\">Lees de privacyverklaring</a>"
                    " (opent in dit venster).</p>"
                ),
                "accept_privacy",
            ),
            Div("website", css_class="hp-field", aria_hidden="true"),
            "submission_key",
            Submit("submit", "Inschrijving versturen", css_class="btn-lg"),
        )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not re.fullmatch(r"[0-9+()\-. ]+", phone) or len(re.sub(r"\D", "", phone)) < 8:
            raise forms.ValidationError(
                "Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678 of +31 6 12345678."
            )
        return phone

    def clean_vat_id(self):
        value = self.cleaned_data["vat_id"].strip()
        if not value:
            return ""
        try:
            return eu_vat.validate(value)
        except stdnum_exceptions.ValidationError:
            raise forms.ValidationError(
                "Dit btw-nummer klopt niet. Controleer het, bijvoorbeeld NL123456789B01, "
                "of laat het veld leeg."
            ) from None

    def clean_kvk_number(self):
        return re.sub(r"[\s.]", "", self.cleaned_data["kvk_number"])

    def clean_oin(self):
        return re.sub(r"\s", "", self.cleaned_data["oin"])

    def clean_peppol_id(self):
        return re.sub(r"\s", "", self.cleaned_data["peppol_id"])

    def clean_submission_key(self):
        # Only ever compared, never shown: anything but a key this form made counts as none.
        key = self.cleaned_data["submission_key"]
        return key if re.fullmatch(r"[A-Za-z0-9_-]{16,64}", key) else ""

    def clean_website(self):
        if self.cleaned_data["website"]:
            raise forms.ValidationError("Dit veld moet leeg blijven.")
        return ""

    def clean(self):
        cleaned = super().clean()
        if self.errors.get("website"):
            # Tell a bot nothing specific; a person never fills the hidden field.
            self.add_error(None, "Je inschrijving kon niet worden verwerkt. Probeer het opnieuw.")
        postcode = cleaned.get("invoice_postcode", "")
        if postcode and str(cleaned.get("invoice_country", "")) == "NL":
            try:
                cleaned["invoice_postcode"] = nl_postcode.validate(postcode)
            except stdnum_exceptions.ValidationError:
                self.add_error(
                    "invoice_postcode", "Vul een Nederlandse postcode in, bijvoorbeeld 1234 AB."
                )
        dutch_address = str(cleaned.get("invoice_country", "")) == "NL"
        identified = cleaned.get("kvk_number") or cleaned.get("oin")
        if dutch_address and not identified and not self.has_error("kvk_number"):
            # BR-NL-10 of SI-UBL 2.0: an e-invoice to a Dutch organisation names it by its KvK
            # number or OIN, or the buyer's system refuses it.
            self.add_error(
                "kvk_number",
                "Vul het KvK-nummer van je organisatie in, of bij een overheidsorganisatie het "
                "OIN. We sturen de factuur ook als e-factuur, en de systemen van Nederlandse "
                "organisaties hebben dat nummer nodig om hem te verwerken.",
            )
        if not cleaned.get("invoice_organisation"):
            cleaned["invoice_organisation"] = cleaned.get("organisation", "")
        if not cleaned.get("invoice_email"):
            cleaned["invoice_email"] = cleaned.get("email", "")
        return cleaned

    def registration_fields(self):
        """The model fields to store, with the moment of consent."""
        now = timezone.now()
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["submission_key"] = self.cleaned_data["submission_key"]
        data["terms_accepted_at"] = now
        data["privacy_accepted_at"] = now
        return data
