import re
import secrets
from functools import cache

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout
from crispy_forms.utils import render_crispy_form
from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from stdnum import exceptions as stdnum_exceptions
from stdnum.eu import vat as eu_vat
from stdnum.nl import postcode as nl_postcode

from .models import (
    INVOICE_DETAIL_FIELDS,
    PARTICIPANT_FIELDS,
    PARTICIPATION_FIELDS,
    Order,
    Registration,
    WhenShort,
)

EMAIL_INVALID = "Vul een geldig e-mailadres in, zoals naam@organisatie.nl."
ALREADY_REGISTERED = (
    "Met dit e-mailadres is al ingeschreven voor deze werkplaats. Kijk in de mail met de "
    "bevestiging, of vraag je persoonlijke link opnieuw aan."
)


def overnight_stay_field(label):
    return forms.TypedChoiceField(
        label=label,
        choices=[("ja", "Ja, overnachten op de locatie"), ("nee", "Nee, niet overnachten")],
        coerce=lambda value: value == "ja",
        widget=forms.RadioSelect,
        initial="ja",
        help_text="Het arrangement is inclusief verblijf.",
    )


def in_dutch(form):
    """The form's messages in one voice ("Vul ... in"), Django's defaults included."""
    for field in form.fields.values():
        field.error_messages.setdefault("required", "Dit veld is verplicht.")
        if isinstance(field, forms.EmailField):
            field.error_messages["invalid"] = EMAIL_INVALID


def sign_up_questions(edition, data=None):
    """The questions the layers built on sign-up add to the participant's part of the form
    for `edition` (settings.SIGN_UP_QUESTIONS), e.g. a registration number where the edition
    is accredited. Each hook gets the edition and the posted data (None for the empty form)
    and returns None or an object with `legend`, `fields` (name: form field), `signature`
    (what its HTML depends on), `clean(form, cleaned_data)` and `store(registration,
    cleaned_data)`."""
    found = [import_string(path)(edition, data) for path in settings.SIGN_UP_QUESTIONS]
    return [question for question in found if question is not None]


class ParticipantForm(forms.ModelForm):
    """Whoever signs up: their own details and, unless they only sign up colleagues, their
    choices as a participant."""

    overnight_stay = overnight_stay_field("Overnacht je op de locatie?")
    not_participating = forms.BooleanField(
        label="Ik doe zelf niet mee: ik schrijf alleen collega's in.",
        required=False,
    )

    class Meta:
        model = Registration
        fields = PARTICIPANT_FIELDS + PARTICIPATION_FIELDS
        labels = {
            "email": "E-mailadres",
            "phone": "Telefoonnummer",
            "job_title": "Functie",
            "own_case": "Je eigen casus of vraag",
            "dietary_needs": "Dieetwensen of allergieën",
            "accessibility_needs": "Toegankelijkheid of andere wensen",
        }
        help_texts = {
            "own_case": (
                "In de werkplaats werk je aan je eigen casuïstiek. Beschrijf kort de opgave of "
                "vraag waar je mee aan de slag wilt (mag later nog veranderen)."
            ),
            "sector": "Niet verplicht; we gebruiken het alleen voor onze statistiek.",
            "role": "Niet verplicht; we gebruiken het alleen voor onze statistiek.",
        }
        widgets = {
            "own_case": forms.Textarea(attrs={"rows": 3}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
            "first_name": forms.TextInput(attrs={"autocomplete": "given-name"}),
            "last_name": forms.TextInput(attrs={"autocomplete": "family-name"}),
            "organisation": forms.TextInput(attrs={"autocomplete": "organization"}),
            "job_title": forms.TextInput(attrs={"autocomplete": "organization-title"}),
        }

    def __init__(self, *args, questions=(), **kwargs):
        super().__init__(*args, **kwargs)
        # The layers' questions (sign_up_questions): shown after the participation part.
        self.questions = list(questions)
        for question in self.questions:
            self.fields.update(question.fields)
        self.fields["phone"].required = True
        for name in ("sector", "role"):
            # A visible "choose" option instead of a silently preselected first answer.
            self.fields[name].choices = [("", "Maak een keuze")] + list(self.fields[name].choices)[
                1:
            ]
        in_dutch(self)

    @cached_property
    def helper(self):
        # Built when the form is shown, not for a sign-up that is stored and redirected.
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        helper.layout = Layout(
            Fieldset("Jouw gegevens", *PARTICIPANT_FIELDS),
            Fieldset("Je deelname", "not_participating", *PARTICIPATION_FIELDS),
            *(Fieldset(q.legend, *q.fields) for q in self.questions),
        )
        return helper

    def clean(self):
        cleaned = super().clean()
        for question in self.questions:
            question.clean(self, cleaned)
        return cleaned

    def store_answers(self, registration):
        """What the layers' questions keep of this participant, once they are stored."""
        for question in self.questions:
            question.store(registration, self.cleaned_data)

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        if not re.fullmatch(r"[0-9+()\-. ]+", phone) or len(re.sub(r"\D", "", phone)) < 8:
            raise forms.ValidationError(
                "Vul een geldig telefoonnummer in, bijvoorbeeld 06 12345678 of +31 6 12345678."
            )
        return phone

    @property
    def participates(self):
        return not self.cleaned_data.get("not_participating")


class ColleagueForm(forms.ModelForm):
    """A colleague signed up in the same go: name, e-mail and their own choices."""

    overnight_stay = overnight_stay_field("Overnacht deze collega op de locatie?")

    class Meta:
        model = Registration
        fields = ["first_name", "last_name", "email", *PARTICIPATION_FIELDS[1:]]
        labels = {
            "email": "E-mailadres",
            "dietary_needs": "Dieetwensen of allergieën",
            "accessibility_needs": "Toegankelijkheid of andere wensen",
        }
        help_texts = {"email": "Je collega krijgt een eigen bevestiging en persoonlijke link."}
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        in_dutch(self)


class BaseColleagueFormSet(forms.BaseFormSet):
    default_error_messages = {
        "missing_management_form": (
            "Het formulier is niet compleet aangekomen. Laad de pagina opnieuw en probeer het "
            "nog eens."
        ),
        "too_many_forms": "Je kunt hier hoogstens %(num)d collega's tegelijk inschrijven.",
        "too_few_forms": "Vul minstens %(num)d collega in.",
    }


# An edition allows at most 50 people per sign-up (Edition.max_participants_per_order), so a
# forged form never makes the server build more than 49 colleague forms.
ColleagueFormSet = forms.formset_factory(
    ColleagueForm, formset=BaseColleagueFormSet, extra=0, max_num=49, absolute_max=49
)


class ListedChoices(BaseChoiceIterator):
    """Choices listed once. A BaseChoiceIterator, so that a form field takes it as it is:
    Django normalizes a plain list of ~250 countries again for every form."""

    def __init__(self, choices):
        self.choices = list(choices)
        self.values = {str(value) for value, _ in self.choices}

    def __iter__(self):
        return iter(self.choices)


class Select(forms.Select):
    """A select of listed choices (ListedChoices) whose HTML is rendered once per name,
    selected value, attributes and language, and then reused: Django renders each of ~250
    countries through two templates, most of the time of showing the sign-up form.
    Named Select because crispy gives a field the CSS class of its widget's class name.

    Only a value among the choices is kept, so what a visitor posts cannot grow the store;
    anything else is rendered as Django always does. The HTML is the same either way.
    """

    rendered = {}
    # At most this many kept (~15 kB each): the common countries, with and without an error.
    KEEP = 64

    def render(self, name, value, attrs=None, renderer=None):
        values = tuple(self.format_value(value))
        if not set(values) <= getattr(self.choices, "values", set()):
            return super().render(name, value, attrs, renderer)
        final_attrs = self.build_attrs(self.attrs, attrs)
        # The renderer is the form's, one per process (a form could name another).
        key = (name, values, tuple(sorted(final_attrs.items())), get_language(), renderer)
        html = self.rendered.get(key)
        if html is None:
            if len(self.rendered) >= self.KEEP:
                self.rendered.clear()
            html = self.rendered[key] = super().render(name, value, attrs, renderer)
        return html


def new_submission_key():
    """Made fresh for every form page: tells a double-clicked submit from a second sign-up."""
    return secrets.token_urlsafe(24)


@cache
def country_choices():
    """The invoice country's choices, listed once per process: django-countries sorts and
    translates its ~250 names again on every use, ~0.5 ms each time a sign-up is checked."""
    return ListedChoices(OrderForm.base_fields["invoice_country"].choices)


class OrderForm(forms.ModelForm):
    """Where the invoice goes, once for everyone signed up, and the terms."""

    accept_terms = forms.BooleanField(
        label="Ik ga akkoord met de voorwaarden hierboven, ook namens de collega's die ik inschrijf.",
        error_messages={"required": "Ga akkoord met de voorwaarden om in te schrijven."},
    )
    # Longer than 8 here: people copy it as "1234 5678" from letterheads; clean_kvk_number
    # takes the spaces out and the model checks the 8 digits.
    kvk_number = forms.CharField(
        label="KvK-nummer van je organisatie",
        max_length=20,
        required=False,
        help_text="8 cijfers. Weet je het niet, laat het leeg.",
    )
    when_short = forms.TypedChoiceField(
        label="Wat doen we?",
        choices=WhenShort.choices,
        widget=forms.RadioSelect,
        required=False,
        empty_value=None,
    )
    # A honeypot: people never see or fill it; simple bots fill every field.
    website = forms.CharField(label="Laat dit veld leeg", required=False, max_length=200)
    # Made fresh for every form page: tells a double-clicked submit from a second sign-up.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Order
        fields = INVOICE_DETAIL_FIELDS
        labels = {
            "invoice_organisation": "Naam organisatie",
            "invoice_email": "E-mailadres voor de factuur",
            "vat_id": "Btw-nummer van je organisatie",
            "oin": "OIN (overheidsorganisaties)",
            "peppol_id": "Peppol-ID (als je organisatie e-facturen via Peppol ontvangt)",
        }
        help_texts = {
            "invoice_organisation": "Leeg laten als dit dezelfde organisatie is als hierboven.",
            "invoice_email": "Leeg laten om de factuur naar je eigen e-mailadres te sturen.",
            "invoice_postcode": "Bijvoorbeeld 1234 AB.",
            "po_number": (
                "Staat op de factuur. Veel gemeenten en corporaties betalen alleen facturen "
                "met hun inkoopordernummer."
            ),
            "vat_id": "Alleen als je organisatie dat op de factuur wil, bijvoorbeeld NL123456789B01.",
            "oin": (
                "20 cijfers, voor gemeenten en andere overheidsorganisaties. Weet je het niet, "
                "laat het leeg."
            ),
            "peppol_id": "Bijvoorbeeld 0106:12345678 of 0190: gevolgd door het OIN. Mag leeg blijven.",
        }
        widgets = {
            "invoice_street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "invoice_postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "invoice_city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
            "invoice_country": Select(attrs={"autocomplete": "country"}),
        }

    def __init__(self, *args, edition, short=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.edition = edition
        self.fields["invoice_organisation"].required = False
        self.fields["invoice_email"].required = False
        self.fields["invoice_country"].choices = country_choices()
        in_dutch(self)
        if not edition.terms:
            # Terms are the organiser's to write; without them there is nothing to accept.
            del self.fields["accept_terms"]
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})
        if not self.is_bound:
            self.initial["submission_key"] = new_submission_key()

    @cached_property
    def helper(self):
        # Built when the form is shown, not for a sign-up that is stored and redirected.
        helper = FormHelper()
        helper.form_tag = False
        helper.disable_csrf = True
        terms = []
        if self.edition.terms:
            terms = [
                Fieldset(
                    "Voorwaarden",
                    HTML(
                        "{% load programme_text %}"
                        '<div class="terms">{{ edition.terms|paragraphs }}</div>'
                    ),
                    "accept_terms",
                )
            ]
        helper.layout = Layout(
            Fieldset(
                "Factuurgegevens",
                "invoice_organisation",
                "invoice_street",
                "invoice_postcode",
                "invoice_city",
                "invoice_country",
                "invoice_email",
                "po_number",
                "kvk_number",
                "oin",
                HTML(
                    '<details class="mb-3"{% if more_invoice_errors %} open{% endif %}>'
                    "<summary>Meer factuurgegevens: ter attentie van, btw-nummer, Peppol-ID"
                    "</summary>"
                ),
                "invoice_attention",
                "vat_id",
                "peppol_id",
                HTML("</details>"),
            ),
            *terms,
            Div("website", css_class="hp-field", aria_hidden="true"),
            "submission_key",
        )
        return helper

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
                self.add_error("invoice_postcode", "Vul een Nederlandse postcode in.")
        return cleaned


class SignUpForm:
    """The public sign-up: whoever signs up (and takes part, unless they say not), any
    colleagues, and the invoice details once. Three Django forms in one HTML form; without
    JavaScript, "Nog een deelnemer" and "Verwijderen" are submit buttons that show the form
    again with a colleague more or less (`rearranged`), storing nothing.
    """

    PREFIX = "collega"
    ADD = "add_colleague"
    REMOVE = "remove_colleague"

    def __init__(self, data=None, *, edition):
        self.edition = edition
        self.data = data
        # Shown for the first time: not posted, nor shown again with a colleague more or less.
        self.is_empty = data is None
        # A form page from before colleagues existed posts no management form: no colleagues.
        has_colleagues = data is not None and f"{self.PREFIX}-TOTAL_FORMS" in data
        self.colleagues = ColleagueFormSet(data if has_colleagues else None, prefix=self.PREFIX)
        self.short = None
        # The order this same form page already stored (a double-clicked submit), if any.
        self.earlier = None
        # Whoever signs up, once positions() made their registration (if they take part).
        self.you_position = None

    # Built when first used: the empty form shows HTML kept from an earlier visitor
    # (_rendered_once), and then needs neither.
    @cached_property
    def questions(self):
        return sign_up_questions(self.edition, self.data)

    @cached_property
    def you(self):
        return ParticipantForm(self.data, questions=self.questions)

    @cached_property
    def order_form(self):
        return OrderForm(self.data, edition=self.edition)

    @classmethod
    def rearranged(cls, data, *, edition):
        """The form as posted, unbound (no errors shown), with a colleague added or removed."""
        form = cls(edition=edition)
        form.is_empty = False
        names = set(form.you.fields) | set(form.order_form.fields)
        for inner in (form.you, form.order_form):
            inner.initial.update({name: data.get(name) for name in names if name in data})
        colleagues = []
        total = _count(data.get(f"{cls.PREFIX}-TOTAL_FORMS"))
        for number in range(min(total, edition.max_participants_per_order)):
            colleagues.append(
                {
                    name: data.get(f"{cls.PREFIX}-{number}-{name}")
                    for name in ColleagueForm.base_fields
                    if f"{cls.PREFIX}-{number}-{name}" in data
                }
            )
        if cls.ADD in data and form.room_for(len(colleagues) + 1):
            colleagues.append({})
        if cls.REMOVE in data:
            removed = _count(data.get(cls.REMOVE))
            colleagues = [c for number, c in enumerate(colleagues) if number != removed]
        form.colleagues = ColleagueFormSet(initial=colleagues, prefix=cls.PREFIX)
        return form

    @classmethod
    def rearranges(cls, data):
        return cls.ADD in data or cls.REMOVE in data

    def room_for(self, colleagues):
        """Whether `colleagues` plus whoever signs up stay within the edition's maximum."""
        return colleagues + 1 <= self.edition.max_participants_per_order

    @property
    def can_add(self):
        return self.room_for(len(self.colleagues.forms) + 1)

    def is_valid(self):
        valid = [self.you.is_valid(), self.order_form.is_valid()]
        if self.colleagues.is_bound:
            valid.append(self.colleagues.is_valid())
        if not all(valid):
            return False
        self._check_people()
        return not self.you.errors and not self.order_form.errors and not self._colleague_errors()

    def _colleague_errors(self):
        return self.colleagues.is_bound and any(form.errors for form in self.colleagues.forms)

    def _colleague_forms(self):
        if not self.colleagues.is_bound:
            return []
        return [form for form in self.colleagues.forms if form.has_changed()]

    def _check_people(self):
        """At least one participant, at most the edition's maximum, each e-mail address once
        and not signed up already (the database constraint holds it too, for the same instant)."""
        people = ([self.you] if self.you.participates else []) + self._colleague_forms()
        if not people:
            self.you.add_error(
                "not_participating",
                "Schrijf minstens één deelnemer in: jezelf of een collega.",
            )
            return
        maximum = self.edition.max_participants_per_order
        if len(people) > maximum:
            self.order_form.add_error(
                None, f"Je kunt in één keer hoogstens {maximum} deelnemers inschrijven."
            )
        seen = set()
        taken = Registration.objects.active_emails(
            self.edition, [form.cleaned_data["email"] for form in people]
        )
        if taken:
            self.earlier = Order.objects.submitted_with(self.edition, self.submission_key)
        for form in people:
            email = form.cleaned_data["email"].lower()
            if email in seen:
                form.add_error("email", "Elke deelnemer heeft een eigen e-mailadres nodig.")
            elif email in taken:
                form.add_error("email", ALREADY_REGISTERED)
            seen.add(email)

    def order(self):
        """The order to store (unsaved), with the moment the terms were accepted."""
        order = self.order_form.save(commit=False)
        you = self.you.cleaned_data
        order.edition = self.edition
        for name in ("first_name", "last_name", "email", "phone", "organisation"):
            setattr(order, name, you[name])
        order.invoice_organisation = order.invoice_organisation or you["organisation"]
        order.invoice_email = order.invoice_email or you["email"]
        order.submission_key = self.order_form.cleaned_data["submission_key"]
        now = timezone.now()
        order.privacy_accepted_at = now
        order.terms_accepted_at = now if self.edition.terms else None
        return order

    def positions(self):
        """The registrations to store (unsaved), in the order the form lists them."""
        positions = []
        self.you_position = None
        if self.you.participates:
            self.you_position = self.you.save(commit=False)
            positions.append(self.you_position)
        organisation = self.you.cleaned_data["organisation"]
        for form in self._colleague_forms():
            colleague = form.save(commit=False)
            colleague.organisation = organisation
            positions.append(colleague)
        return positions

    def store_answers(self):
        """After the positions were stored: what the layers' questions keep of whoever signed
        up (colleagues answer them on their own personal page)."""
        if self.you_position is not None and self.you_position.pk:
            self.you.store_answers(self.you_position)

    @property
    def when_short(self):
        return self.order_form.cleaned_data.get("when_short")

    @property
    def submission_key(self):
        return self.order_form.cleaned_data.get("submission_key", "")

    def ask_when_short(self, short):
        """Fewer places than people: show the choice, with the numbers, before storing."""
        self.short = short
        field = self.order_form.fields["when_short"]
        waiting = short.requested - short.free
        field.choices = [
            (
                WhenShort.SPLIT,
                f"De eerste {short.free} van de {short.requested} deelnemers (in de volgorde "
                f"van dit formulier) krijgen een plaats; de andere {waiting} komen op de "
                "wachtlijst en krijgen een plaats als er een vrijkomt.",
            ),
            (
                WhenShort.ALL_WAITING,
                f"Alle {short.requested} deelnemers komen op de wachtlijst, in deze volgorde. "
                "Niemand krijgt nu een plaats; de vrije plaatsen blijven voor anderen. Wie "
                "vooraan staat krijgt een plaats zodra er een vrijkomt.",
            ),
        ]

    def add_error(self, message):
        self.order_form.add_error(None, message)

    def error_items(self):
        """(field id, text) for the error summary at the top, in the order of the page."""
        if self.is_empty:
            return []
        items = [(None, error) for error in self.order_form.non_field_errors()]
        forms_in_order = [self.you, *self._colleague_forms_for_errors(), self.order_form]
        for form in forms_in_order:
            for field in form.visible_fields():
                for error in field.errors:
                    label = str(field.label).rstrip(".:?")
                    if isinstance(field.field.widget, forms.CheckboxInput):
                        text = error
                    else:
                        text = f"{label}: {error}"
                    anchor = field.id_for_label or f"{field.auto_id}_0"
                    items.append((anchor, text))
        if self.colleagues.is_bound:
            items += [(None, error) for error in self.colleagues.non_form_errors()]
        return items

    def _colleague_forms_for_errors(self):
        return self.colleagues.forms if self.colleagues.is_bound else []

    @property
    def more_invoice_errors(self):
        return any(
            self.order_form.has_error(name) for name in ("invoice_attention", "vat_id", "peppol_id")
        )

    # The HTML of the empty form as crispy renders it, per part, edition and language:
    # {(part, edition pk, language): (what it depends on, HTML with a placeholder key)}.
    _empty_html = {}
    KEY_PLACEHOLDER = "submission-key-placeholder"

    @cached_property
    def empty_submission_key(self):
        return new_submission_key()

    def _rendered_once(self, part, form_name, depends_on):
        """The form `form_name` rendered by crispy once and kept: crispy renders each field
        through several templates, most of the time of a form page. Only for the empty form,
        whose HTML is the same for everyone but the submission key, put in each time."""
        slot = (part, self.edition.pk, get_language())
        kept = self._empty_html.get(slot)
        if kept is None or kept[0] != depends_on:
            form = getattr(self, form_name)
            context = {"edition": self.edition, "more_invoice_errors": False}
            html = render_crispy_form(form, context=context)
            if "submission_key" in form.fields:
                html = html.replace(form.initial["submission_key"], self.KEY_PLACEHOLDER)
            kept = self._empty_html[slot] = (depends_on, html)
        return mark_safe(kept[1].replace(self.KEY_PLACEHOLDER, self.empty_submission_key))

    def participant_html(self):
        # The layers' questions change with what staff set up for the edition.
        signature = tuple(question.signature for question in self.questions)
        return self._rendered_once("participant", "you", signature or None)

    def management_html(self):
        """The colleagues' management form of the empty form (no colleagues): the same for
        every edition, so kept per language."""
        slot = ("management", None, get_language())
        if slot not in self._empty_html:
            self._empty_html[slot] = (None, str(self.colleagues.management_form))
        return mark_safe(self._empty_html[slot][1])

    def order_html(self):
        # The terms are the edition's only text in the invoice part.
        return self._rendered_once("order", "order_form", self.edition.terms)


def _count(value):
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        return 0
