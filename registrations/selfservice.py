"""The forms of the participant's own page (choices, a substitute) and of the link resend.

They validate and normalise what is typed; the rules on when a change may be made live on
Registration (change_choices, name_substitute), so the admin and the shell obey them too.
"""

from django import forms

from .models import CHOICE_FIELDS, Registration


class _Styled:
    """Bootstrap classes, and aria-invalid/aria-describedby on fields with an error."""

    def _style(self):
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                continue
            widget.attrs.setdefault("class", "form-control")
            if self.is_bound and name in self.errors:
                widget.attrs["class"] += " is-invalid"
                widget.attrs["aria-invalid"] = "true"
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}-fout"


class ChoicesForm(_Styled, forms.ModelForm):
    class Meta:
        model = Registration
        fields = CHOICE_FIELDS
        labels = {
            "overnight_stay": "Ik overnacht op de locatie",
            "dietary_needs": "Dieetwensen",
            "accessibility_needs": "Toegankelijkheid of andere wensen",
        }
        widgets = {
            "dietary_needs": forms.TextInput(),
            "accessibility_needs": forms.TextInput(),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="keuzes", **kwargs)
        self._style()

    def choices(self):
        return {name: self.cleaned_data[name] for name in CHOICE_FIELDS}


class SubstituteForm(_Styled, forms.Form):
    first_name = forms.CharField(
        label="Voornaam", max_length=100, error_messages={"required": "Vul de voornaam in."}
    )
    last_name = forms.CharField(
        label="Achternaam", max_length=100, error_messages={"required": "Vul de achternaam in."}
    )
    email = forms.EmailField(
        label="E-mailadres",
        max_length=254,
        error_messages={
            "required": "Vul het e-mailadres in.",
            "invalid": "Vul een geldig e-mailadres in, bijvoorbeeld naam@organisatie.nl.",
        },
    )
    # Not asked of colleagues signed up by someone else either: nobody needs them to take part.
    phone = forms.CharField(label="Telefoonnummer", max_length=30, required=False)
    job_title = forms.CharField(label="Functie", max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="vervanger", **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        self._style()

    def person(self):
        data = {name: self.cleaned_data[name].strip() for name in self.fields}
        data["email"] = data["email"].lower()
        return data


class ResendLinkForm(_Styled, forms.Form):
    email = forms.EmailField(
        label="E-mailadres waarmee je je inschreef",
        max_length=254,
        error_messages={
            "required": "Vul je e-mailadres in.",
            "invalid": "Vul een geldig e-mailadres in, bijvoorbeeld naam@organisatie.nl.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self._style()
