import io

from django import forms
from django.conf import settings
from django.utils.text import get_valid_filename
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from .models import Material, Message
from .placeholders import PLACEHOLDERS

PLACEHOLDER_HELP = "Invulvelden, per persoon ingevuld: " + "; ".join(
    f"{{{name}}} {placeholder.description}" for name, placeholder in PLACEHOLDERS.items()
)


class MessageForm(forms.ModelForm):
    """A message staff write. The material notices are made by the job, not here."""

    class Meta:
        model = Message
        fields = ["edition", "kind", "subject", "body", "group", "day"]
        help_texts = {"body": PLACEHOLDER_HELP}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "kind" in self.fields:
            self.fields["kind"].choices = [
                (value, label)
                for value, label in Message.Kind.choices
                if value != Message.Kind.MATERIAL
            ]


def max_bytes():
    return settings.PREPARATION_MATERIAL_MAX_MB * 1024 * 1024


def too_large_text():
    return (
        f"Dit bestand is groter dan {settings.PREPARATION_MATERIAL_MAX_MB} MB. Maak de pdf "
        "kleiner of deel hem als link. Er is niets opgeslagen."
    )


# What a file that is no PDF most often is, by how it begins, for a refusal that says so.
LOOKS_LIKE = [
    ((b"<svg", b"<?xml"), "een SVG- of XML-bestand"),
    ((b"<!doctype", b"<html", b"<head", b"<body", b"<script"), "een HTML-bestand"),
    ((b"pk\x03\x04",), "een Word-, Excel- of zipbestand"),  # compared lower-cased
]


def pdf_refusal(content):
    """Why `content` is no PDF we serve, in Dutch, or None: judged by its content (it begins
    with %PDF- and pypdf can read its pages), never by its name or the browser's type."""
    if not content.startswith(b"%PDF-"):
        head = content[:512].lstrip().lower()
        kind = next((name for starts, name in LOOKS_LIKE if head.startswith(starts)), None)
        if kind is None and b"<svg" in head:
            kind = "een SVG-bestand"
        what = f"Dit is geen pdf maar {kind}." if kind else "Dit bestand is geen pdf."
        return f"{what} Je kunt alleen pdf-documenten uploaden. Er is niets opgeslagen."
    try:
        pages = len(PdfReader(io.BytesIO(content)).pages)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        pages = 0
    if not pages:
        return (
            "Dit bestand begint als een pdf maar is beschadigd of onleesbaar. Sla het opnieuw "
            "op als pdf en probeer het nog eens. Er is niets opgeslagen."
        )
    return None


class MaterialForm(forms.ModelForm):
    upload = forms.FileField(
        label="Document (pdf)",
        required=False,
        help_text="Alleen pdf; het document wordt in de database bewaard.",
    )

    url = forms.URLField(label="link", required=False, assume_scheme="https")

    class Meta:
        model = Material
        fields = ["edition", "title", "kind", "upload", "url", "release_on"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pdf = None

    def clean_upload(self):
        upload = self.cleaned_data.get("upload")
        if not upload:
            return None
        if upload.size > max_bytes():
            raise forms.ValidationError(too_large_text())
        content = upload.read()
        refusal = pdf_refusal(content)
        if refusal:
            raise forms.ValidationError(refusal)
        name = get_valid_filename(upload.name.rsplit("/", 1)[-1]) or "document"
        if not name.lower().endswith(".pdf"):
            name = f"{name}.pdf"
        self.pdf = (content, name[-200:])
        return upload

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        has_file = self.instance.pk is not None and bool(self.instance.filename)
        if (
            kind == Material.Kind.FILE
            and not self.pdf
            and not has_file
            and "upload" not in self.errors
        ):
            self.add_error("upload", "Kies het pdf-document.")
        if kind == Material.Kind.LINK and self.pdf:
            self.add_error("upload", "Een link heeft geen document; kies de soort document.")
        return cleaned
