from django import forms


class FindForm(forms.Form):
    email = forms.EmailField(
        label="E-mailadres",
        help_text="Het adres waarmee de persoon zich inschreef, aanmeldde of een factuur kreeg.",
    )

    def clean_email(self):
        return self.cleaned_data["email"].strip()


class ErasureForm(FindForm):
    email = forms.EmailField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Reden",
        max_length=300,
        help_text="Bijvoorbeeld: verzoek per e-mail van 3 december. Komt in het logboek.",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Geef een reden op.")
        return reason
