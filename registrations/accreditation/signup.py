"""The registration number on the sign-up form (settings.SIGN_UP_QUESTIONS): optional, only
where the edition has a register, for the register the participant chooses."""

from django import forms
from django.core.exceptions import ValidationError

from .models import Entry, Register

REGISTER = "accreditation_register"
NUMBER = "accreditation_number"


class RegisterNumberQuestion:
    legend = "Accreditatiepunten"

    def __init__(self, registers):
        self.registers = {str(register.pk): register for register in registers}
        self.signature = tuple((r.pk, r.name, r.number_format) for r in registers)
        self.fields = {
            REGISTER: forms.ChoiceField(
                label="In welk register sta je?",
                choices=[("", "Geen, of ik vul het later in")]
                + [(pk, register.name) for pk, register in self.registers.items()],
                required=False,
                help_text="Niet verplicht. Deze werkplaats is geaccrediteerd; met je "
                "registratienummer komen je punten op je bewijs van deelname.",
            ),
            NUMBER: forms.CharField(
                label="Je registratienummer",
                max_length=40,
                required=False,
                help_text="Je kunt het ook later op je persoonlijke pagina invullen.",
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            ),
        }

    def clean(self, form, cleaned):
        register = self.registers.get(cleaned.get(REGISTER) or "")
        number = cleaned.get(NUMBER) or ""
        if number and register is None:
            form.add_error(REGISTER, "Kies het register van je registratienummer.")
        elif register and number:
            try:
                cleaned[NUMBER] = register.check_number(number)
            except ValidationError as refusal:
                form.add_error(NUMBER, refusal)

    def store(self, registration, cleaned):
        register = self.registers.get(cleaned.get(REGISTER) or "")
        if register and cleaned.get(NUMBER):
            Entry.objects.create(
                registration=registration, register=register, number=cleaned[NUMBER]
            )


def question(edition, data=None):
    """The question where `edition` has a register. A posted form without it (an edition
    without registers when the page was shown) costs no query."""
    if data is not None and NUMBER not in data:
        return None
    registers = list(Register.objects.filter(edition=edition))
    return RegisterNumberQuestion(registers) if registers else None
