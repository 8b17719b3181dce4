import copy
from collections import Counter

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from programme.models import Edition, amsterdam_date
from werkplaats import formats
from werkplaats.admin_tools import (
    ReadOnlyAdminMixin,
    admin_page,
    apply_to_each,
    confirm_page,
    mail_preview,
    report_mail,
)
from werkplaats.exports import csv_response, dutch_name_key
from werkplaats.formats import money
from werkplaats.queue import Queued, atomic_with

from . import admin_views, emails, models, retention, tasks
from .accesslog.log import Kind, record
from .models import (
    ORDERER_FIELDS,
    AlreadyRegistered,
    Order,
    Registration,
    RegistrationChange,
    RegistrationClosed,
    TransitionRefused,
    WaitingListOffer,
    count_with_status,
)

# What a step of a registration action raises to skip its row with a reason.
REFUSALS = (TransitionRefused, ValidationError)


# A status change with its queued mail costs about 30 ms per registration on PostgreSQL (9 s
# for 290 on the shared CI machine): this many stay far inside gunicorn's 30 s timeout, so a
# selection is never left half done by a timeout. More is refused before anything changes.
TRANSITION_LIMIT = 200

# Staff edit the participant; the invoice details both staff and finance; the agreed price
# only finance (permission registrations.change_billing).
PARTICIPANT_FIELDS = [*models.PARTICIPANT_FIELDS, *models.PARTICIPATION_FIELDS]
INVOICE_DETAIL_FIELDS = models.INVOICE_DETAIL_FIELDS
MONEY_FIELDS = models.AGREED_PRICE_FIELDS
RECORD_FIELDS = [
    "reference",
    "status",
    "waiting_position",
    "token",
    "created_at",
    "updated_at",
    "cancelled_at",
    "waiting_since",
    "confirmation_sent_at",
    "anonymised_at",
    "edition_price",
]


# The order's invoice details as form fields, for forms that show them beside a registration's.
OrderDetailFields = type(
    "OrderDetailFields", (forms.Form,), forms.fields_for_model(Order, INVOICE_DETAIL_FIELDS)
)


class RegistrationAddForm(forms.ModelForm, OrderDetailFields):
    """Staff adding someone by hand: the status follows from the places, as for a sign-up.
    They join an existing order (a colleague added later), or get one of their own with the
    invoice details given here."""

    existing_order = forms.CharField(
        label="bij bestelling",
        required=False,
        help_text=(
            "Referentie, bijvoorbeeld BST-00012: de deelnemer komt bij die bestelling en op "
            "dezelfde factuurgegevens. Leeg: een eigen bestelling met de gegevens hieronder."
        ),
    )

    class Meta:
        model = Registration
        fields = ["edition", *PARTICIPANT_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = None

    def clean_existing_order(self):
        reference = self.cleaned_data["existing_order"].strip().upper()
        if not reference:
            return None
        digits = reference.removeprefix("BST-")
        order = Order.objects.filter(pk=int(digits)).first() if digits.isdigit() else None
        if order is None:
            raise ValidationError(f"Er is geen bestelling {reference}.")
        return order

    def clean(self):
        cleaned = super().clean()
        edition, email = cleaned.get("edition"), cleaned.get("email")
        if edition and edition.price_excl_vat is None:
            self.add_error("edition", "Deze editie heeft nog geen prijs; Financiën vult die in.")
        if edition and email:
            taken = Registration.objects.active().filter(edition=edition, email__iexact=email)
            if taken.exists():
                self.add_error("email", "Met dit e-mailadres is al ingeschreven voor deze editie.")
        existing = cleaned.get("existing_order")
        if existing is not None:
            if edition and existing.edition_id != edition.pk:
                self.add_error("existing_order", f"{existing.reference} is voor een andere editie.")
            self.order = existing
        elif edition and not self.has_error("email"):
            self.order = Order(
                edition=edition,
                **{name: cleaned.get(name, "") for name in ORDERER_FIELDS},
                **{name: cleaned.get(name) for name in INVOICE_DETAIL_FIELDS},
            )
            try:
                self.order.full_clean(exclude=["edition", *ORDERER_FIELDS])
            except ValidationError as error:
                for field, messages_ in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages_)
        return cleaned


OFFER_FIELDS = ["state", "offered_at", "expires_at", "closed_at", "emailed_at"]


class WaitingListOfferInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WaitingListOffer
    fields = OFFER_FIELDS
    readonly_fields = OFFER_FIELDS
    extra = 0


class RegistrationChangeInline(admin.TabularInline):
    """What the participant (or the booker, on the order page) changed: read only, for
    everyone."""

    model = RegistrationChange
    extra = 0
    fields = readonly_fields = ["at", "kind", "fields", "by_booker", "previous_name"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        # Whoever sees the registration sees its changes (the log holds no wishes; the
        # previous participant's name only until retention erases it).
        return request.user.has_perm("registrations.view_registration")


class RegistrationAdmin(admin.ModelAdmin):
    # Seen at 1366 px with the sidebar and the filters open: the edition as its start date
    # (the full title in its tooltip and in the filter), the e-mail address under the name,
    # the waiting-list date beside the status and the sign-up date under the order, so the status
    # and the invoicing column stay in view.
    list_display = [
        "name_and_email",
        "order_link",
        "organisation_and_function",
        "edition_label",
        "status_since",
    ]
    list_filter = [
        "edition",
        "status",
        "sector",
        "role",
        "overnight_stay",
        # "Leeg" finds the confirmations the mail server refused, to resend them.
        ("confirmation_sent_at", admin.EmptyFieldListFilter),
    ]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "organisation",
        "order__invoice_organisation",
        "order__po_number",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["edition", "order"]

    class Media:
        css = {"all": ["css/admin_lists.css"]}

    inlines = [WaitingListOfferInline, RegistrationChangeInline]
    actions = [
        "confirm_from_waiting_list",
        "cancel_registrations",
        "reinstate_registrations",
        "resend_confirmation",
        "export_participants",
        "export_venue_list",
    ]
    fieldsets = [
        (None, {"fields": ["edition", "order", "status", "waiting_position", "reference"]}),
        (
            "Deelnemer",
            {
                "fields": [
                    ("first_name", "last_name"),
                    ("email", "phone"),
                    ("organisation", "job_title"),
                    ("sector", "role"),
                ]
            },
        ),
        (
            "Deelname",
            # The case is read on intake's pages, by those who may (intake.view_answer).
            {"fields": ["dietary_needs", "accessibility_needs", "overnight_stay"]},
        ),
        ("Afgesproken prijs", {"fields": [*MONEY_FIELDS, "edition_price"]}),
        (
            "Administratie",
            {
                "fields": [
                    ("created_at", "updated_at"),
                    ("cancelled_at", "waiting_since"),
                    ("confirmation_sent_at", "anonymised_at"),
                    "token",
                ]
            },
        ),
    ]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (None, {"fields": ["edition"]}),
                ("Deelnemer", {"fields": PARTICIPANT_FIELDS}),
                (
                    "Bestelling en factuurgegevens",
                    {"fields": ["existing_order", *INVOICE_DETAIL_FIELDS]},
                ),
            ]
        return super().get_fieldsets(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = RegistrationAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def has_manage_permission(self, request):
        """Managing participants (transitions, resending mail) is the Medewerkers' work."""
        return request.user.has_perm("registrations.change_registration")

    @staticmethod
    def may_change_billing(request):
        return request.user.has_perm("registrations.change_billing")

    def has_change_permission(self, request, obj=None):
        # Finance corrects invoice details and the agreed price without managing participants.
        return super().has_change_permission(request, obj) or self.may_change_billing(request)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        readonly = list(RECORD_FIELDS) + ["edition", "order"]
        manages_participants = super().has_change_permission(request, obj)
        if not manages_participants:
            readonly += PARTICIPANT_FIELDS
        if not self.may_change_billing(request):
            readonly += MONEY_FIELDS
        # The edition stays: moving someone is a cancellation here and a sign-up there, each
        # under its own edition's rules.
        return readonly

    @admin.display(description="bestelling", ordering="created_at")
    def order_link(self, registration):
        url = reverse("admin:registrations_order_change", args=[registration.order_id])
        return format_html(
            '<a href="{}">{}</a><br><small title="ingeschreven op">{}</small>',
            url,
            registration.order.reference,
            formats.numeric_date(timezone.localtime(registration.created_at)),
        )

    @admin.display(description="editie", ordering="edition__start_date")
    def edition_label(self, registration):
        edition = registration.edition
        return format_html(
            '<span title="{}">{}</span>', edition.title, formats.numeric_date(edition.start_date)
        )

    @admin.display(description="naam", ordering="last_name")
    def name_and_email(self, registration):
        # A long address may break anywhere (static/css/admin_lists.css), not widen the table.
        return format_html("{}<br><small>{}</small>", registration.full_name, registration.email)

    @admin.display(description="organisatie, functie", ordering="organisation")
    def organisation_and_function(self, registration):
        return format_html(
            "{}<br><small>{}</small>", registration.organisation, registration.job_title
        )

    @admin.display(description="status", ordering="status")
    def status_since(self, registration):
        if registration.status == Registration.Status.WAITING and registration.waiting_since:
            since = formats.numeric_date(timezone.localtime(registration.waiting_since))
            return f"{registration.get_status_display()} sinds {since}"
        return registration.get_status_display()

    @admin.display(description="plaats op wachtlijst")
    def waiting_position(self, registration):
        return registration.position_on_waiting_list() or "–"

    @admin.display(description="huidige prijs van de editie")
    def edition_price(self, registration):
        edition = registration.edition
        current = money(edition.price_excl_vat) if edition.price_excl_vat is not None else "–"
        if edition.price_excl_vat != registration.price_excl_vat:
            return f"{current} (wijkt af van de afgesproken prijs: de factuur rekent die)"
        return current

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        now = timezone.now()
        if form.order._state.adding:
            # Staff enter what the participant agreed to when they asked to be added.
            form.order.privacy_accepted_at = now
            form.order.terms_accepted_at = now if form.order.edition.terms else None
        try:
            with atomic_with(tasks.send_confirmation_email) as queued:
                Registration.objects.place(
                    form.order, [obj], at=now, by_staff=True, by=request.user
                )
                queued(obj.pk)
                tasks.queue_confirmation_notices(obj)
        except (AlreadyRegistered, RegistrationClosed):
            # The form checked both; only a sign-up in the same instant gets here.
            raise ValidationError("Deze inschrijving kon niet worden opgeslagen.") from None
        self.message_user(
            request,
            f"{obj.reference} is {obj.get_status_display()}.",
            messages.SUCCESS,
        )
        report_mail(self, request, queued, "Bevestiging")

    def _too_many(self, request, queryset):
        if queryset.count() <= TRANSITION_LIMIT:
            return False
        self.message_user(
            request,
            f"Kies hoogstens {TRANSITION_LIMIT} inschrijvingen tegelijk; er is niets "
            "gewijzigd. Doe de rest in een volgende ronde.",
            messages.ERROR,
        )
        return True

    def _mail_each(self, request, queryset, step, done, mail_task, what):
        """apply_to_each, with `mail_task` queued in each step's own transaction."""
        if self._too_many(request, queryset):
            return
        outcomes = Queued()

        def mailing_step(registration):
            with atomic_with(mail_task) as queued:
                text = step(registration)
                queued(registration.pk)
            outcomes.results += queued.results
            return text

        apply_to_each(self, request, queryset, mailing_step, done, refusals=REFUSALS)
        report_mail(self, request, outcomes, what)

    @admin.action(
        description="Bevestigen vanaf de wachtlijst (wie vooraan staat)", permissions=["manage"]
    )
    def confirm_from_waiting_list(self, request, queryset):
        queryset = queryset.order_by("edition", "waiting_since", "pk").select_related("edition")
        if "apply" not in request.POST:
            return self._confirm_mail(
                request,
                queryset,
                "confirm_from_waiting_list",
                "Bevestigen vanaf de wachtlijst",
                "Wie niet vooraan staat of voor wie geen plaats meer is, wordt bij het "
                "bevestigen overgeslagen en krijgt niets.",
                "Het bericht 'er is een plaats vrij'",
                _waiting_recipient,
                # The mail is rendered after the confirmation: as confirmed.
                lambda r: emails.confirmation_message(_as_confirmed(r), from_waiting_list=True),
            )

        def step(registration):
            registration.confirm_from_waiting_list(by=request.user)
            # Confirming also expires lapsed offers, whose places go to the next in line.
            tasks.queue_offer_mails(registration.edition)
            tasks.queue_confirmation_notices(registration)
            return f"{registration.reference} bevestigd vanaf de wachtlijst"

        self._mail_each(
            request,
            queryset,
            step,
            "Bevestigd",
            tasks.send_place_freed_email,
            "Bericht 'er is een plaats vrij'",
        )

    @admin.action(description="Annuleren…", permissions=["manage"])
    def cancel_registrations(self, request, queryset):
        queryset = queryset.select_related("edition", "order").order_by("pk")
        if "apply" not in request.POST:
            return self._confirm_mail(
                request,
                queryset,
                "cancel_registrations",
                "Inschrijvingen annuleren",
                "Wie geannuleerd wordt, krijgt deze bevestiging; medewerkers krijgen een "
                "melding, en Financiën ook als er al een factuur is. Een vrijgekomen plaats "
                "wordt aangeboden aan wie op de wachtlijst staat.",
                "De annuleringsbevestiging",
                _cancellable_recipient,
                lambda r: emails.cancellation_message(
                    _with_status(r, Registration.Status.CANCELLED)
                ),
            )

        def step(registration):
            registration.cancel(by=request.user)
            tasks.queue_cancellation_notices(registration)
            return f"{registration.reference} geannuleerd"

        self._mail_each(
            request,
            queryset.select_related("edition"),
            step,
            "Geannuleerd",
            tasks.send_cancellation_emails,
            "Annuleringsbevestiging",
        )

    @admin.action(
        description="Annulering terugdraaien… (bevestigd als er plaats is, anders wachtlijst)",
        permissions=["manage"],
    )
    def reinstate_registrations(self, request, queryset):
        queryset = queryset.select_related("edition", "order").order_by("pk")
        if "apply" not in request.POST:
            return self._confirm_mail(
                request,
                queryset,
                "reinstate_registrations",
                "Annulering terugdraaien",
                "Is er geen plaats vrij of wacht er al iemand, dan komt de deelnemer achteraan "
                "op de wachtlijst; de bevestiging zegt dat dan.",
                "De bevestiging",
                _cancelled_recipient,
                lambda r: emails.confirmation_message(_as_reinstated(r)),
            )

        def step(registration):
            registration.reinstate(by=request.user)
            tasks.queue_offer_mails(registration.edition)
            tasks.queue_confirmation_notices(registration)
            return f"{registration.reference} terug als {registration.get_status_display()}"

        self._mail_each(
            request,
            queryset.select_related("edition"),
            step,
            "Teruggezet",
            tasks.send_reinstated_email,
            "Bevestiging",
        )

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            # The place it held is offered (Registration.delete); its mail goes out.
            tasks.queue_offer_mails(obj.edition)

    def delete_queryset(self, request, queryset):
        editions = list(Edition.objects.filter(pk__in=queryset.values("edition_id")))
        with transaction.atomic():
            super().delete_queryset(request, queryset)
            tasks.queue_offer_mails(*editions)

    @admin.action(description="Bevestiging opnieuw versturen", permissions=["manage"])
    def resend_confirmation(self, request, queryset):
        queryset = queryset.select_related("edition", "order").order_by("pk")
        if "apply" not in request.POST:
            return self._confirm_mail(
                request,
                queryset,
                "resend_confirmation",
                "Bevestiging opnieuw versturen",
                "",
                "De bevestiging",
                _confirmation_recipient,
                emails.confirmation_message,
            )

        def step(registration):
            _confirmation_recipient(registration)
            return registration.reference

        self._mail_each(
            request,
            queryset.select_related("edition"),
            step,
            "Bevestiging opnieuw aangeboden aan de mailserver",
            tasks.send_confirmation_email,
            "Bevestiging",
        )

    def _confirm_mail(self, request, queryset, action, title, text, what, recipient, message):
        """The page a mailing action shows first: nothing is sent until it is posted."""
        if self._too_many(request, queryset):
            return None  # refused as the action itself would, before any preview
        preview = mail_preview(what, queryset, recipient, message, REFUSALS)
        return confirm_page(self, request, queryset, action, title, text, mail=preview)

    @staticmethod
    def _people(request, queryset):
        """Confirmed participants unless the list is filtered on a status, in Dutch order."""
        if not request.GET.get("status__exact"):
            queryset = queryset.confirmed()
        people = list(queryset.select_related("edition", "order"))
        return sorted(people, key=lambda r: dutch_name_key(r.last_name, r.first_name))

    @staticmethod
    def _record_export(request, what, people):
        editions = {r.edition for r in people}
        edition = editions.pop() if len(editions) == 1 else None
        record(Kind.EXPORT, what, request=request, count=len(people), edition=edition)

    @admin.action(description="Exporteer deelnemerslijst (CSV)", permissions=["view"])
    def export_participants(self, request, queryset):
        people = self._people(request, queryset)
        self._record_export(request, "Deelnemerslijst (CSV)", people)
        header = [
            "Referentie",
            "Editie",
            "Status",
            "Voornaam",
            "Achternaam",
            "E-mail",
            "Telefoon",
            "Organisatie",
            "Functie",
            "Sector",
            "Rol",
            "Overnachten",
            "Kenmerk factuur",
            "Ingeschreven op",
        ]
        rows = (
            [
                r.reference,
                r.edition.title,
                r.get_status_display(),
                r.first_name,
                r.last_name,
                r.email,
                r.phone,
                r.organisation,
                r.job_title,
                r.get_sector_display(),
                r.get_role_display(),
                "ja" if r.overnight_stay else "nee",
                r.order.po_number,
                formats.moment(r.created_at),
            ]
            for r in people
        )
        return csv_response("deelnemers.csv", header, rows)

    @admin.action(
        description="Exporteer lijst voor de locatie: dieet en toegankelijkheid (CSV)",
        permissions=["view"],
    )
    def export_venue_list(self, request, queryset):
        people = self._people(request, queryset)
        self._record_export(
            request, "Lijst voor de locatie: dieet en toegankelijkheid (CSV)", people
        )
        header = [
            "Naam",
            "Organisatie",
            "Status",
            "Overnachten",
            "Dieetwensen",
            "Toegankelijkheid/wensen",
        ]
        rows = [
            [
                r.full_name,
                r.organisation,
                r.get_status_display(),
                "ja" if r.overnight_stay else "nee",
                r.dietary_needs,
                r.accessibility_needs,
            ]
            for r in people
        ]
        diets = Counter(" ".join(r.dietary_needs.split()).lower() or "geen" for r in people)
        rows.append([])
        rows.append(["Aantal per dieet", "", "", "", "", ""])
        rows += [[diet, count, "", "", "", ""] for diet, count in sorted(diets.items())]
        rows.append(["Overnachten", sum(r.overnight_stay for r in people), "", "", "", ""])
        rows.append(["Totaal", len(people), "", "", "", ""])
        return csv_response("locatie-dieet-toegankelijkheid.csv", header, rows)


def _confirmation_recipient(registration):
    if registration.is_cancelled:
        raise TransitionRefused(
            f"{registration.reference} is geannuleerd; daar hoort geen bevestiging bij."
        )
    return f"{registration.full_name} <{registration.email}> ({registration.reference})"


def _waiting_recipient(registration):
    if registration.status != Registration.Status.WAITING:
        raise TransitionRefused(
            f"{registration.reference} staat niet op de wachtlijst: "
            f"{registration.get_status_display()}."
        )
    return f"{registration.full_name} <{registration.email}> ({registration.reference})"


def _cancellable_recipient(registration):
    if registration.is_cancelled:
        raise TransitionRefused(f"{registration.reference} is al geannuleerd.")
    return f"{registration.full_name} <{registration.email}> ({registration.reference})"


def _cancelled_recipient(registration):
    if not registration.is_cancelled:
        raise TransitionRefused(
            f"{registration.reference} is niet geannuleerd: {registration.get_status_display()}."
        )
    return f"{registration.full_name} <{registration.email}> ({registration.reference})"


def _with_status(registration, status):
    """The registration as its mail will see it after the action (for the preview only)."""
    changed = copy.copy(registration)
    changed.status = status
    return changed


def _as_confirmed(registration):
    return _with_status(registration, Registration.Status.CONFIRMED)


def _as_reinstated(registration):
    """Back as confirmed, or at the end of the waiting list: what reinstate() will decide."""
    if Registration.objects.newcomer_waits(registration.edition):
        return _with_status(registration, Registration.Status.WAITING)
    return _as_confirmed(registration)


class CapacityForm(forms.ModelForm):
    """The edition form, checking a new maximum against the confirmed places under the
    edition lock (the admin saves in the same transaction, so no sign-up slips between)."""

    def clean_capacity(self):
        capacity = self.cleaned_data.get("capacity")
        if capacity is None or not self.instance.pk:
            return capacity
        Edition.objects.select_for_update().get(pk=self.instance.pk)
        counts = Registration.objects.counts(self.instance)
        confirmed, offered = counts["confirmed"], counts["offered"]
        if capacity < confirmed:
            raise ValidationError(
                f"Er zijn al {confirmed} bevestigde deelnemers. Verlaag het maximum niet onder "
                "dat aantal; annuleer eerst wie niet meer komt."
            )
        if capacity < confirmed + offered:
            raise ValidationError(
                f"Er zijn {confirmed} bevestigde deelnemers en {offered} plaats(en) aangeboden "
                "aan de wachtlijst, die nog geldig zijn. Verlaag het maximum niet onder "
                f"{confirmed + offered}, of wacht tot de aanbiedingen zijn afgehandeld."
            )
        return capacity


class RetentionDueFilter(admin.SimpleListFilter):
    """Editions whose registrations are anonymised within 30 days (or should have been):
    the overview's worklist (retention.editions_due_within)."""

    title = "bewaartermijn"
    parameter_name = "bewaartermijn"

    def lookups(self, request, model_admin):
        return [("binnen_30", "loopt binnen 30 dagen af")]

    def queryset(self, request, queryset):
        if self.value() == "binnen_30":
            today = amsterdam_date(timezone.now())
            due = retention.editions_due_within(today, retention.NOTICE_DAYS)
            return queryset.filter(pk__in=[edition.pk for edition, _due in due])
        return queryset


class PlacesEditionMixin:
    """What sign-up adds to the programme's edition admin: the places (confirmed, waiting,
    free), the waiting list and the retention filter. `list_display`, `list_filter` and
    `fieldsets` hold the additions only; werkplaats/admin.py joins them to the programme's."""

    form = CapacityForm
    list_filter = [RetentionDueFilter]
    list_display = [
        "confirmed_count",
        "waiting_count",
        "cancelled_count",
        "places_left",
    ]
    fieldsets = [
        ("Wachtlijst", {"fields": ["waiting_list_offers", "offer_validity_hours"]}),
        (
            "Aantallen",
            {
                "fields": [
                    "confirmed_count",
                    "waiting_count",
                    "offered_count",
                    "cancelled_count",
                    "places_left",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [
            *super().get_readonly_fields(request, obj),
            "confirmed_count",
            "waiting_count",
            "offered_count",
            "cancelled_count",
            "places_left",
        ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_confirmed=count_with_status(Registration.Status.CONFIRMED),
                n_waiting=count_with_status(Registration.Status.WAITING),
                n_cancelled=count_with_status(Registration.Status.CANCELLED),
            )
        )

    @admin.display(description="bevestigd", ordering="n_confirmed")
    def confirmed_count(self, obj):
        return getattr(obj, "n_confirmed", 0)

    @admin.display(description="wachtlijst", ordering="n_waiting")
    def waiting_count(self, obj):
        return getattr(obj, "n_waiting", 0)

    @admin.display(description="aanbiedingen uit (wachtlijst)")
    def offered_count(self, obj):
        if obj.pk is None:
            return "–"
        return Registration.objects.counts(obj)["offered"]

    @admin.display(description="geannuleerd", ordering="n_cancelled")
    def cancelled_count(self, obj):
        return getattr(obj, "n_cancelled", 0)

    @admin.display(description="plaatsen vrij")
    def places_left(self, obj):
        if obj.pk is None:
            return "–"
        left = Registration.objects.places_left(obj)
        return "onbeperkt" if left is None else left

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # A higher maximum, or automatic offers switched on, frees places: offered here, in
        # the change form's transaction, under the edition lock, and their mail queued.
        edition = Edition.objects.select_for_update().get(pk=obj.pk)
        made = len(WaitingListOffer.objects.offer_free_places(edition))
        tasks.queue_offer_mails(edition)
        if made:
            self.message_user(
                request,
                f"{made} plaats(en) per e-mail aangeboden aan de wachtlijst, in volgorde.",
                messages.SUCCESS,
            )
        waiting = Registration.objects.filter(edition=obj).waiting()
        waiting = waiting.exclude(offers__state=WaitingListOffer.State.OPEN).count()
        left = Registration.objects.places_left(obj)
        if waiting and left != 0:
            free = waiting if left is None else min(left, waiting)
            self.message_user(
                request,
                f"Er is plaats voor {free} van de {waiting} op de wachtlijst zonder aanbod. "
                "Bevestig ze bij Inschrijvingen met 'Bevestigen vanaf de wachtlijst', in "
                "volgorde.",
                messages.WARNING,
            )


class StatisticsEditionMixin:
    """What sign-up adds to the edition admin: the statistics of an edition and across
    editions (admin_views.py), linked from the edition's page and the list of editions.
    `fieldsets` holds the addition only; werkplaats/admin.py joins it to the others'."""

    fieldsets = [("Statistieken", {"fields": ["statistics_links"]})]
    change_list_template = "registrations/edition_change_list.html"

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "statistics_links"]

    @admin.display(description="statistieken")
    def statistics_links(self, edition):
        if edition.pk is None:
            return "–"
        return format_html(
            '<a href="{}">Statistieken van deze editie</a> · <a href="{}">over alle edities</a>',
            reverse("admin:programme_edition_statistics", args=[edition.pk]),
            reverse("admin:programme_edition_statistics_all"),
        )

    def get_urls(self):
        return [
            path(
                "statistieken/",
                admin_page(self, admin_views.all_statistics),
                name="programme_edition_statistics_all",
            ),
            path(
                "statistieken.csv",
                admin_page(self, admin_views.all_statistics_csv),
                name="programme_edition_statistics_all_csv",
            ),
            path(
                "<int:pk>/statistieken/",
                admin_page(self, admin_views.edition_statistics),
                name="programme_edition_statistics",
            ),
            path(
                "<int:pk>/statistieken.csv",
                admin_page(self, admin_views.edition_statistics_csv),
                name="programme_edition_statistics_csv",
            ),
            *super().get_urls(),
        ]


class RetentionRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the daily retention job did: read-only, the record an audit asks for."""

    list_display = ["edition", "action", "registrations", "due_on", "done_at"]
    list_filter = ["action", "edition"]
    date_hierarchy = "done_at"

    def has_delete_permission(self, request, obj=None):
        return False


class PositionInline(admin.TabularInline):
    """The order's participants, read-only here: each is managed on their own page."""

    model = Registration
    fields = ["reference", "full_name", "email", "status"]
    readonly_fields = fields
    show_change_link = True
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrganisationOrderInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An organisation's orders, read-only: each is managed on its own page."""

    model = Order
    fk_name = "debtor"
    fields = ["reference", "edition", "full_name", "po_number", "created_at"]
    readonly_fields = fields
    show_change_link = True
    extra = 0


class OrderOrganisationMixin:
    """What sign-up adds to the organisation register's admin: the organisation's orders
    (`inlines`, the addition only; werkplaats/admin.py joins them), and which of its held
    orders finance's correction lets go."""

    inlines = [OrganisationOrderInline]

    def save_model(self, request, obj, form, change):
        held = list(obj.orders.held_for_invoicing()) if change else []
        super().save_model(request, obj, form, change)
        # Where a correction of the organisation (a KvK number, no PO required any more)
        # unblocks its orders: invoicing can follow here (Order.invoicing_unblocked).
        unblocked = [order for order in held if order.invoicing_unblocked()]
        if unblocked:
            # Where their editions send invoices by themselves, the held invoices go now.
            tasks.queue_invoiceable_notices(*unblocked)
            self.message_user(
                request,
                "Klaar om te factureren: " + ", ".join(order.reference for order in unblocked),
                messages.SUCCESS,
            )


class OrderAdmin(admin.ModelAdmin):
    """Who signed up whom, and where the invoice goes. Orders come from the sign-up form (or
    from adding a registration by hand); nobody adds or deletes one here. Finance links each
    to its organisation in the register: matched on KvK number or OIN when it is stored,
    suggested on its name, confirmed or made here."""

    list_display = [
        "reference",
        "full_name",
        "invoice_organisation",
        "po_number",
        "edition",
        "participant_count",
        "created_at",
    ]
    list_filter = ["edition"]
    search_fields = [
        "first_name",
        "last_name",
        "email",
        "organisation",
        "invoice_organisation",
        "po_number",
    ]
    list_select_related = ["edition", "debtor"]
    date_hierarchy = "created_at"
    inlines = [PositionInline]
    actions = ["link_debtors"]
    autocomplete_fields = ["debtor"]
    fieldsets = [
        (None, {"fields": ["edition", "reference"]}),
        ("Organisatie", {"fields": ["debtor", "debtor_control"]}),
        (
            "Besteld door",
            {"fields": [("first_name", "last_name"), ("email", "phone"), "organisation"]},
        ),
        (
            "Factuurgegevens",
            {
                "fields": [
                    "invoice_organisation",
                    "invoice_attention",
                    "invoice_street",
                    ("invoice_postcode", "invoice_city"),
                    "invoice_country",
                    "invoice_email",
                    ("po_number", "vat_id"),
                    ("kvk_number", "oin"),
                    "peppol_id",
                ]
            },
        ),
        (
            "Administratie",
            {
                "fields": [
                    ("terms_accepted_at", "privacy_accepted_at"),
                    ("created_at", "updated_at"),
                    "anonymised_at",
                    "token",
                ]
            },
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(participants=Count("positions"))

    @admin.display(description="deelnemers", ordering="participants")
    def participant_count(self, order):
        return order.participants

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Finance corrects invoice details (change_billing) without managing participants.
        return super().has_change_permission(request, obj) or RegistrationAdmin.may_change_billing(
            request
        )

    def get_readonly_fields(self, request, obj=None):
        readonly = [
            "edition",
            "reference",
            "debtor_control",
            "invoicing_status",
            "terms_accepted_at",
            "privacy_accepted_at",
            "created_at",
            "updated_at",
            "anonymised_at",
            "token",
        ]
        if not super().has_change_permission(request, obj):
            readonly += ORDERER_FIELDS
        if not self.has_billing_permission(request):
            readonly += ["debtor"]
        return readonly

    def has_billing_permission(self, request):
        return RegistrationAdmin.may_change_billing(request)

    def get_urls(self):
        return [
            path(
                "<int:pk>/organisatie/",
                admin_page(self, admin_views.link_order_debtor),
                name="registrations_order_debtor",
            ),
            *super().get_urls(),
        ]

    def get_fieldsets(self, request, obj=None):
        # The buttons that link an organisation are finance's; others see only the status.
        if self.has_billing_permission(request):
            return super().get_fieldsets(request, obj)
        fieldsets = copy.deepcopy(super().get_fieldsets(request, obj))
        for _name, options in fieldsets:
            options["fields"] = [
                "invoicing_status" if field == "debtor_control" else field
                for field in options["fields"]
            ]
        return fieldsets

    @admin.display(description="facturatie")
    def invoicing_status(self, order):
        blocker = order.invoicing_blocker() if order.pk else ""
        return f"Wacht op factuurgegevens: {blocker}" if blocker else "–"

    @admin.display(description="koppelen")
    def debtor_control(self, order):
        """Whether the order can be invoiced and, while it has no organisation, the
        suggestions to link (buttons finance presses; the form around them is the page's)."""
        blocker = order.invoicing_blocker() if order.pk else ""
        status = format_html("<p>Wacht op factuurgegevens: {}</p>", blocker) if blocker else ""
        if order.pk is None or order.debtor_id is not None:
            return status or "–"
        url = reverse("admin:registrations_order_debtor", args=[order.pk])
        buttons = format_html_join(
            " ",
            '<button type="submit" formaction="{}" name="organisation" value="{}">'
            "Koppelen aan {}{}</button>",
            (
                (
                    url,
                    suggestion.pk,
                    suggestion,
                    f" ({suggestion.invoice_city})" if suggestion.invoice_city else "",
                )
                for suggestion in order.suggested_debtors()
            ),
        )
        create = format_html(
            '<button type="submit" formaction="{}" name="create" value="1">'
            "Nieuwe organisatie maken van deze gegevens</button>",
            url,
        )
        return format_html("{}<p>{} {}</p>", status, buttons, create)

    @admin.action(
        description="Organisatie koppelen (voorstel) of aanmaken", permissions=["billing"]
    )
    def link_debtors(self, request, queryset):
        def step(order):
            if order.debtor_id is not None:
                raise ValidationError(f"{order.reference} is al gekoppeld aan {order.debtor}.")
            suggestions = order.suggested_debtors()
            if len(suggestions) > 1:
                raise ValidationError(
                    f"{order.reference}: meer organisaties heten zo; kies er een op de bestelling."
                )
            organisation = suggestions[0] if suggestions else order.debtor_from_details()
            return admin_views.link_debtor(order, organisation, request.user)

        apply_to_each(self, request, queryset.select_related("debtor"), step, "Gekoppeld")


class OfferStateFilter(admin.SimpleListFilter):
    """The state as the participant sees it: an open offer whose time is up shows as
    'verlopen, nog te verwerken' until the job (or the next change) expires it."""

    title = "stand"
    parameter_name = "stand"

    def lookups(self, request, model_admin):
        return [
            *WaitingListOffer.State.choices,
            ("lapsed", "verlopen, nog te verwerken"),
            ("expiring", "verloopt binnen 24 uur"),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "lapsed":
            return queryset.lapsed()
        if value == "expiring":
            return queryset.expiring()
        if value == WaitingListOffer.State.OPEN:
            return queryset.open().filter(expires_at__gt=timezone.now())
        if value in WaitingListOffer.State.values:
            return queryset.filter(state=value)
        return queryset


class WaitingListOfferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Every offer of a freed place and its state; the offers move by themselves, so nobody
    changes them here (confirm or cancel the registration instead)."""

    list_display = ["registration", "edition", "state", "offered_at", "expires_at", "closed_at"]
    list_filter = [OfferStateFilter, "registration__edition"]
    list_select_related = ["registration__edition"]
    search_fields = ["registration__first_name", "registration__last_name", "registration__email"]
    date_hierarchy = "offered_at"
    fields = ["registration", "edition", *OFFER_FIELDS]

    @admin.display(description="editie", ordering="registration__edition")
    def edition(self, offer):
        return offer.registration.edition
