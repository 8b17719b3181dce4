from django import forms
from django.core.exceptions import ValidationError


class NumbersForm(forms.Form):
    """The participant's registration number per register of the edition, on the personal
    page; checked against the register's published format."""

    def __init__(self, registers, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.registers = list(registers)
        for register in self.registers:
            self.fields[self.name_of(register)] = forms.CharField(
                label=f"Registratienummer {register.name}",
                required=False,
                max_length=40,
            )

    @staticmethod
    def name_of(register):
        return f"register_{register.pk}"

    def clean(self):
        cleaned = super().clean()
        for register in self.registers:
            name = self.name_of(register)
            if name in cleaned:
                try:
                    cleaned[name] = register.check_number(cleaned[name])
                except ValidationError as refusal:
                    self.add_error(name, refusal)
        return cleaned

    def numbers(self):
        """{register: number} of the registers the page sent."""
        return {
            register: self.cleaned_data[self.name_of(register)]
            for register in self.registers
            if self.name_of(register) in self.data
        }
