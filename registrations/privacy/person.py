"""One person, found by e-mail address across everything the site holds, and erased on request.

A person is whoever typed that address: as a participant (their registrations), as the one who
signed up (the orders they booked, or whose invoice address is theirs) and as someone who
handed a place over to a substitute (the change record keeps who it was). Everything else is
reached through those rows: cases, coach conversations, attendance, certificates, messages,
invoice lines, the orders' history and the mails the queue sent.

Erasing follows the retention job's rules (registrations/retention.py, the intake's
erase_cases_of), earlier and for one person: what invoices, certificates' verification and the
statistics need stays; invoices are never touched (kept seven years for the tax authorities).
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from programme.models import amsterdam_date
from registrations import retention
from registrations import tasks as registrations_tasks
from registrations.accreditation import retention as accreditation_retention
from registrations.accreditation.models import CertificatePoints, Entry
from registrations.attendance import tasks as attendance_tasks
from registrations.attendance.models import Attendance, Certificate
from registrations.coaching import tasks as coaching_tasks
from registrations.coaching.models import CoachSlot
from registrations.history.models import OrderLogEntry
from registrations.intake import tasks as intake_tasks
from registrations.intake.models import Answer
from registrations.intake.retention import erase_cases_of
from registrations.invoicing import tasks as invoicing_tasks
from registrations.invoicing.models import Invoice, InvoiceLine
from registrations.messages import tasks as messages_tasks
from registrations.messages.models import Recipient
from registrations.models import (
    Order,
    Registration,
    RegistrationChange,
    RetentionRecord,
    WaitingListOffer,
)
from registrations.network.models import Consent
from registrations.payments import tasks as payments_tasks
from registrations.payments.models import Reminder

# The mails the queue sends, what each is in a person's words, and which of their rows the
# task's one argument names (werkplaats/queue.py: a task gets a primary key, never an address).
MAILS = [
    (registrations_tasks.send_order_emails, "orders", "bevestiging van de inschrijving"),
    (registrations_tasks.send_confirmation_email, "registrations", "bevestiging (opnieuw)"),
    (registrations_tasks.send_reinstated_email, "registrations", "inschrijving teruggezet"),
    (registrations_tasks.send_place_freed_email, "registrations", "plaats vrijgekomen"),
    (registrations_tasks.send_cancellation_emails, "registrations", "annulering"),
    (registrations_tasks.send_booker_cancellation_emails, "registrations", "annulering"),
    (registrations_tasks.send_waiting_list_offer_email, "offers", "aanbod van een plaats"),
    (registrations_tasks.send_change_emails, "changes", "wijziging of vervanger"),
    (registrations_tasks.send_personal_link_email, "registrations", "persoonlijke link"),
    (coaching_tasks.send_booking_email, "registrations", "coachgesprek geboekt"),
    (intake_tasks.send_case_reminder_email, "registrations", "herinnering casus"),
    (messages_tasks.send_participant_message, "recipients", "bericht aan deelnemers"),
    (attendance_tasks.send_certificate_email, "certificates", "bewijs van deelname"),
    (invoicing_tasks.invoice_order, "orders", "factuur van de bestelling"),
    (invoicing_tasks.send_invoice_email, "invoices", "factuur"),
    (payments_tasks.send_reminder_email, "reminders", "betalingsherinnering"),
]


class ErasureRefused(Exception):
    """This person cannot be erased yet; the message says why and what to do first."""


@dataclass
class Person:
    email: str
    registrations: list = field(default_factory=list)
    orders: list = field(default_factory=list)
    handed_over: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    offers: list = field(default_factory=list)
    answers: list = field(default_factory=list)
    coach_slots: list = field(default_factory=list)
    attendances: list = field(default_factory=list)
    certificates: list = field(default_factory=list)
    certificate_points: list = field(default_factory=list)
    register_entries: list = field(default_factory=list)
    consents: list = field(default_factory=list)
    recipients: list = field(default_factory=list)
    invoices: list = field(default_factory=list)
    invoice_lines: list = field(default_factory=list)
    reminders: list = field(default_factory=list)
    history: list = field(default_factory=list)
    mails: list = field(default_factory=list)

    @classmethod
    def find(cls, email):
        """Everything the site holds about whoever uses `email` (case does not matter)."""
        email = email.strip()
        person = cls(email=email)
        if not email:
            return person
        person.registrations = list(
            Registration.objects.filter(email__iexact=email)
            .select_related("edition", "order")
            .order_by("created_at", "pk")
        )
        person.orders = list(
            Order.objects.filter(Q(email__iexact=email) | Q(invoice_email__iexact=email))
            .select_related("edition")
            .order_by("created_at", "pk")
        )
        person.handed_over = list(
            RegistrationChange.objects.filter(previous_email__iexact=email).select_related(
                "registration__edition"
            )
        )
        mine = [r.pk for r in person.registrations]
        booked = [o.pk for o in person.orders]
        person.changes = list(
            RegistrationChange.objects.filter(registration__in=mine).select_related("registration")
        )
        person.offers = list(
            WaitingListOffer.objects.filter(registration__in=mine)
            .select_related("registration")
            .order_by("offered_at")
        )
        person.answers = list(
            Answer.objects.filter(registration__in=mine)
            .select_related("registration", "question")
            .order_by("registration", "question__position")
        )
        person.coach_slots = list(
            CoachSlot.objects.filter(registration__in=mine).select_related("coach", "registration")
        )
        person.attendances = list(
            Attendance.objects.filter(registration__in=mine).select_related("registration")
        )
        person.certificates = list(
            Certificate.objects.filter(registration__in=mine).select_related("registration")
        )
        person.certificate_points = list(
            CertificatePoints.objects.filter(certificate__in=person.certificates)
            .select_related("certificate__registration")
            .order_by("certificate", "register_name")
        )
        person.register_entries = list(
            Entry.objects.filter(registration__in=mine).select_related("register", "registration")
        )
        # The network keeps its own copy of who shares, also after the registration itself
        # was anonymised: found by that copy's address too.
        person.consents = list(
            Consent.objects.filter(Q(registration__in=mine) | Q(email__iexact=email))
            .select_related("registration__edition")
            .order_by("given_on", "pk")
        )
        person.recipients = list(
            Recipient.objects.filter(registration__in=mine)
            .select_related("message", "registration")
            .order_by("queued_at")
        )
        person.invoice_lines = person._invoice_lines()
        named = [line.invoice_id for line in person.invoice_lines]
        person.invoices = list(
            Invoice.objects.filter(
                Q(order__in=booked) | Q(customer_email__iexact=email) | Q(pk__in=named)
            )
            .distinct()
            .order_by("issued_at", "pk")
        )
        person.reminders = list(
            Reminder.objects.filter(Q(invoice__order__in=booked) | Q(sent_to__iexact=email))
            .select_related("invoice")
            .order_by("sent_at")
        )
        person.history = list(
            OrderLogEntry.objects.filter(Q(order__in=booked) | Q(registration__in=mine))
            .select_related("order")
            .order_by("at", "pk")
        )
        person.mails = person._mails()
        return person

    def _invoice_lines(self):
        """The invoice lines that name this person. A line names whoever held the place when
        it was issued: a place handed over to a substitute keeps its earlier lines under the
        previous person's name, so those are theirs, and the later ones the substitute's."""
        places = [r.pk for r in self.registrations] + [c.registration_id for c in self.handed_over]
        handovers = {}
        for change in RegistrationChange.objects.filter(
            registration__in=places, kind=RegistrationChange.Kind.SUBSTITUTE
        ).order_by("at", "pk"):
            handovers.setdefault(change.registration_id, []).append(change.at)
        lines = InvoiceLine.objects.select_related("invoice", "registration").order_by(
            "invoice__issued_at", "pk"
        )
        found = []
        for registration in self.registrations:
            since = max(handovers.get(registration.pk, []), default=None)
            mine = lines.filter(registration=registration)
            found += mine.filter(invoice__issued_at__gte=since) if since else mine
        for change in self.handed_over:
            earlier = [at for at in handovers.get(change.registration_id, []) if at < change.at]
            theirs = lines.filter(
                registration=change.registration_id, invoice__issued_at__lt=change.at
            )
            found += theirs.filter(invoice__issued_at__gte=max(earlier)) if earlier else theirs
        return found

    def _mails(self):
        """(what, task result) of every mail the queue holds for this person, oldest first."""
        ids = {
            "registrations": [r.pk for r in self.registrations],
            "orders": [o.pk for o in self.orders],
            "offers": [o.pk for o in self.offers],
            "changes": [c.pk for c in [*self.changes, *self.handed_over]],
            "recipients": [r.pk for r in self.recipients],
            "certificates": [c.pk for c in self.certificates],
            "invoices": [i.pk for i in self.invoices],
            "reminders": [r.pk for r in self.reminders],
        }
        found = []
        for queued_task, kind, what in MAILS:
            if not ids[kind]:
                continue
            results = DBTaskResult.objects.filter(
                task_path=queued_task.module_path, args_kwargs__args__0__in=ids[kind]
            )
            found += [(what, result) for result in results]
        return sorted(found, key=lambda pair: (pair[1].enqueued_at, str(pair[1].pk)))

    def __bool__(self):
        return bool(
            self.registrations
            or self.orders
            or self.handed_over
            or self.invoices
            or self.reminders
            or self.consents
        )

    @property
    def count(self):
        """How many rows the site holds about this person (what the record counts)."""
        return sum(
            len(getattr(self, name))
            for name in (
                "registrations",
                "orders",
                "handed_over",
                "changes",
                "offers",
                "answers",
                "coach_slots",
                "attendances",
                "certificates",
                "certificate_points",
                "register_entries",
                "consents",
                "recipients",
                "invoices",
                "invoice_lines",
                "reminders",
                "history",
                "mails",
            )
        )

    @property
    def references(self):
        """The registrations' and orders' references: how the record names this person."""
        return [r.reference for r in self.registrations] + [o.reference for o in self.orders]

    def erasure_refusals(self, today=None):
        """Why this person cannot be erased yet (Dutch, one line each); empty when they can.

        Erasing is the retention job done early, so it waits for what the job waits for: the
        edition must be over for everything still running (a place, a waiting-list spot, an
        order whose colleagues are coming), and a confirmed place must be invoiced first, since
        the invoice line is made from the registration and the invoice address from the
        order. An open invoice does not hold it up: the invoice keeps its own frozen copy,
        stays payable and its reminders go to its own address."""
        today = today or amsterdam_date(timezone.now())
        refusals = []
        for registration in self.registrations:
            if registration.anonymised_at:
                continue
            if not registration.is_cancelled and registration.edition.end_date >= today:
                refusals.append(
                    f"{registration.reference} staat nog {registration.get_status_display()} "
                    f"voor {registration.edition}: annuleer eerst die inschrijving, of wis na de "
                    "laatste dag."
                )
        for order in self.orders:
            if order.anonymised_at or order.edition.end_date < today:
                continue
            if order.positions.active().exists():
                refusals.append(
                    f"{order.reference} (voor {order.edition}) heeft nog deelnemers die komen: "
                    "wis na de laatste dag, of annuleer hun plaatsen eerst."
                )
        uninvoiced = (
            Registration.objects.confirmed()
            .filter(Q(pk__in=[r.pk for r in self.registrations]) | Q(order__in=self.orders))
            .filter(anonymised_at__isnull=True, price_excl_vat__gt=0, invoice_lines__isnull=True)
            .select_related("order")
        )
        for registration in uninvoiced:
            refusals.append(
                f"{registration.reference} is nog niet gefactureerd: factureer eerst "
                f"{registration.order.reference}, de factuur neemt de gegevens over."
            )
        return refusals

    def to_erase(self):
        """What erasing removes, in a person's words, for the confirmation page."""
        return {
            "registrations": [r for r in self.registrations if not r.anonymised_at],
            "orders": [o for o in self.orders if not o.anonymised_at],
            "handed_over": [c for c in self.handed_over if c.previous_email],
            "answers": self.answers,
        }

    @transaction.atomic
    def erase(self, at=None):
        """Erase this person by the retention job's rules; returns how many registrations.

        Raises ErasureRefused (nothing changed) when erasure must wait. The statistics stay as
        they were: the fields they count are kept, and a confirmed diet wish is counted in a
        RetentionRecord before it goes, as erase_needs does."""
        at = at or timezone.now()
        registrations = list(
            Registration.objects.select_for_update()
            .filter(email__iexact=self.email, anonymised_at__isnull=True)
            .select_related("edition")
        )
        orders = list(
            Order.objects.select_for_update()
            .filter(
                Q(email__iexact=self.email) | Q(invoice_email__iexact=self.email),
                anonymised_at__isnull=True,
            )
            .select_related("edition")
        )
        # Checked again on the rows as they are now, locked: what the page showed may be old.
        # The refusals read only these rows (anonymised ones never refuse).
        locked = Person(self.email, registrations=registrations, orders=orders)
        refusals = locked.erasure_refusals(amsterdam_date(at))
        if refusals:
            raise ErasureRefused(" ".join(refusals))
        erase_cases_of(Registration.objects.filter(pk__in=[r.pk for r in registrations]), at)
        accreditation_retention.erase_of(registrations)
        for consent in Consent.objects.standing().filter(
            Q(registration__in=registrations) | Q(email__iexact=self.email)
        ):
            Consent.objects.withdraw(consent.registration, at)
        per_edition = {}
        for registration in registrations:
            counted = per_edition.setdefault(registration.edition, [0, 0])
            counted[0] += 1
            if registration.status == Registration.Status.CONFIRMED and registration.dietary_needs:
                counted[1] += 1
            retention.anonymise_registration(registration, at)
        retention.forget_handed_over(
            RegistrationChange.objects.filter(previous_email__iexact=self.email)
        )
        for order in orders:
            retention.anonymise_order(order, at)
        for edition, (count, diets) in per_edition.items():
            RetentionRecord.objects.create(
                edition=edition,
                action=RetentionRecord.Action.ERASED_ON_REQUEST,
                registrations=count,
                confirmed_with_diet=diets,
                due_on=amsterdam_date(at),
                done_at=at,
            )
        return len(registrations)
