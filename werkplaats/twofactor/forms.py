from django import forms
from django_otp import verify_token

from . import devices


class CodeField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            label="Code",
            max_length=40,
            widget=forms.TextInput(
                attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "autofocus": True}
            ),
            **kwargs,
        )

    def to_python(self, value):
        # A code as an app shows it ("123 456") or as copied from the list of recovery codes.
        return "".join(super().to_python(value).split())


class CodeForm(forms.Form):
    """The second step of signing in: a code from the app, or a recovery code."""

    code = CodeField(help_text="De zes cijfers uit je authenticator-app, of een herstelcode.")

    def __init__(self, user, *args, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        for device in devices.code_devices(self.user):
            # django-otp's verify_token locks the device row and applies its throttling.
            self.device = verify_token(self.user, device.persistent_id, code)
            if self.device is not None:
                return code
        raise forms.ValidationError("Deze code klopt niet. Probeer het opnieuw.")


class ConfirmAppForm(forms.Form):
    """Setting up the app: the first code it shows proves it holds the secret."""

    code = CodeField(help_text="De zes cijfers die je app nu toont.")

    def __init__(self, device, *args, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not self.device.verify_token(code):
            raise forms.ValidationError(
                "Deze code klopt niet. Kijk of de tijd op je telefoon goed staat."
            )
        return code
