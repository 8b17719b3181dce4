from django import forms

from .models import CoachSlot


class BookingForm(forms.Form):
    """The free slots of the edition (and the participant's own), one to choose: what a
    booking may ask for (the page lists them itself, from one query)."""

    slot = forms.ModelChoiceField(
        queryset=CoachSlot.objects.none(),
        widget=forms.RadioSelect,
        label="Kies een tijdstip",
        error_messages={
            "required": "Kies een tijdstip.",
            "invalid_choice": "Dit tijdstip is niet (meer) vrij. Kies een ander.",
        },
    )

    def __init__(self, registration, *args, **kwargs):
        super().__init__(*args, **kwargs)
        slots = CoachSlot.objects.of_edition(registration.edition)
        self.fields["slot"].queryset = slots.filter(registration__isnull=True) | slots.filter(
            registration=registration
        )
