"""Roles follow responsibility: the role matrix of the back office, page by page and action by
action, for Medewerkers (content, programme, participants), Financiën (money), a staff user in
no group (outsider) and an anonymous visitor.

The groups are made by migrations; these tests use them as a fresh database has them.
"""

import datetime
from decimal import Decimal

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

from programme.models import Edition, PrivacyStatement
from registrations.accesslog.log import Kind, record
from registrations.accreditation.models import Entry, Register
from registrations.attendance.models import Attendance, Certificate
from registrations.coaching.models import Coach, CoachSlot
from registrations.evaluation.models import Questionnaire
from registrations.intake.models import Intake
from registrations.invoicing import jobs
from registrations.invoicing.admin_views import CorrectionForm
from registrations.invoicing.issuing import credit_invoice, issue_invoice
from registrations.invoicing.models import BulkJob, Invoice, InvoiceDocument, OrderInvoicing
from registrations.messages.models import Material, Message
from registrations.models import Registration, RetentionRecord, WaitingListOffer
from registrations.organisations.models import Organisation
from registrations.payments.matching import record_payment
from registrations.payments.models import (
    BankStatement,
    CostCentre,
    InvoiceHold,
    LedgerAccount,
    Payment,
    Reminder,
    ReminderSettings,
)
from registrations.transmission.models import Transmission
from tests.conftest import (
    _user,
    built_once,
    form_data,
    fresh_copy,
    make_edition,
    make_ended_edition,
    make_issuer,
    make_registration,
    tiny_pdf,
)
from werkplaats.admin_site import SECRET_PAGES

MEDEWERKERS = "Medewerkers"
FINANCIEN = "Financien"  # ASCII in test ids; the group is "Financiën"
OUTSIDER = "outsider"
COACH = "Coaches"
ANONYMOUS = "anonymous"
PERSONAS = [MEDEWERKERS, FINANCIEN, OUTSIDER, ANONYMOUS]
LOGGED_IN = [MEDEWERKERS, FINANCIEN, OUTSIDER]
FIXTURE = {MEDEWERKERS: "staff_member", FINANCIEN: "finance_user", OUTSIDER: "outsider"}

LOGIN = reverse("admin:login")


@pytest.fixture(scope="module")
def _world(django_db_setup, django_db_blocker, tmp_path_factory):
    # Built once for the ~700 cases of this module; each case gets it as stored (built_once).
    yield from built_once(django_db_blocker, tmp_path_factory, _build_world)


@pytest.fixture
def world(db, _world):
    return fresh_copy(_world)


# The personas are the world's people (the fixtures of the same name in conftest would add
# them a second time).
@pytest.fixture
def staff_member(world):
    return world["people"][MEDEWERKERS]


@pytest.fixture
def finance_user(world):
    return world["people"][FINANCIEN]


@pytest.fixture
def outsider(world):
    return world["people"][OUTSIDER]


def _build_world():
    """One row of every model the admin shows, so each page is checked on a real object."""
    open_edition = make_edition()
    invoicing = make_issuer()
    staff_member = _user("anna", "Medewerkers")
    finance_user = _user("femke", "Financiën")
    outsider = _user("otto")
    now = timezone.now()
    registration = make_registration(open_edition, first_name="Fatima")
    invoiced = make_registration(open_edition, first_name="Pieter", email="pieter@example.nl")
    invoice = issue_invoice(invoiced)
    attended = make_registration(make_ended_edition(), first_name="Sanne")
    Attendance.objects.create(registration=attended, date=attended.edition.start_date, present=True)
    certificate = Certificate.objects.issue(attended)
    # A finished ZIP job, which both groups may see (each may download invoices).
    zip_job, _ = jobs.start(BulkJob.Kind.ZIP, [invoice.pk], by=finance_user)
    register = Register.objects.create(
        edition=open_edition,
        name="Registerplein",
        accreditation_id="RP-1",
        points=Decimal("18"),
        hours_per_part=Decimal("3"),
    )
    entry = Entry.objects.create(registration=registration, register=register, number="4610123")
    coach_user = _user("marieke", "Coaches")
    coach = Coach.objects.create(name="Marieke Smit", user=coach_user)
    slot = CoachSlot.objects.create(
        edition=open_edition,
        coach=coach,
        day=open_edition.start_date,
        start=datetime.time(14, 0),
        end=datetime.time(14, 45),
        room="Zaal 2",
    )
    attempt = {"user_agent": "test", "ip_address": "192.0.2.1", "username": "mallory"}
    rows = {
        "auth.group": Group.objects.get(name="Medewerkers"),
        "auth.user": outsider,
        "axes.accessattempt": AccessAttempt.objects.create(
            **attempt,
            http_accept="*/*",
            path_info="/beheer/login/",
            attempt_time=now,
            get_data="",
            post_data="",
            failures_since_start=1,
        ),
        "axes.accesslog": AccessLog.objects.create(
            **attempt, http_accept="*/*", path_info="/beheer/login/", attempt_time=now
        ),
        "axes.accessfailurelog": AccessFailureLog.objects.create(
            **attempt, http_accept="*/*", path_info="/beheer/login/", attempt_time=now
        ),
        "django_tasks_database.dbtaskresult": DBTaskResult.objects.create(
            enqueued_at=now,
            args_kwargs={"args": [], "kwargs": {}},
            task_path="registrations.tasks.send_confirmation_email",
            backend_name="default",
            run_after=now,
            exception_class_path="",
            traceback="",
        ),
        "programme.edition": open_edition,
        "programme.privacystatement": PrivacyStatement.objects.create(),
        "registrations.registration": registration,
        "registrations.order": registration.order,
        "invoicing.invoice": invoice,
        "invoicing.invoiceissuer": invoicing,
        "registrations.retentionrecord": RetentionRecord.objects.create(
            edition=open_edition, action="needs_erased", registrations=1, due_on=now.date()
        ),
        "attendance.certificate": certificate,
        "invoicing.bulkjob": zip_job,
        "registrations.waitinglistoffer": WaitingListOffer.objects.create(
            registration=make_registration(
                make_edition(slug="met-wachtlijst"),
                email="wachtend@example.nl",
                status=Registration.Status.WAITING,
            ),
            expires_at=now + datetime.timedelta(hours=48),
        ),
        "payments.bankstatement": BankStatement.objects.create(
            sha256="0" * 64, filename="afschrift.xml", format="camt053"
        ),
        "payments.payment": Payment.objects.create(
            amount=Decimal("12.50"), booking_date=now.date(), counterparty_name="Piet"
        ),
        "payments.reminder": Reminder.objects.create(
            invoice=invoice, level=1, sent_to="facturen@example.nl", outstanding=Decimal("1")
        ),
        "payments.invoicehold": InvoiceHold.objects.create(invoice=invoice, reason="na afloop"),
        "payments.remindersettings": _reminder_settings(),
        "payments.ledgeraccount": LedgerAccount.objects.create(
            vat_rate=Decimal("21"), revenue_account="8000", vat_code="V21"
        ),
        "payments.costcentre": CostCentre.objects.create(edition=open_edition, code="WP2022"),
        "participant_messages.message": Message.objects.create(
            edition=open_edition, subject="Programmawijziging", body="Beste {voornaam}, ..."
        ),
        "participant_messages.material": _material(open_edition),
        "intake.intake": Intake.objects.for_edition(open_edition),
        "evaluation.questionnaire": Questionnaire.objects.for_edition(open_edition),
        "coaching.coach": coach,
        "coaching.coachslot": slot,
        "accesslog.accesslogentry": record(Kind.EXPORT, "Deelnemerslijst (CSV)", count=3),
        "accreditation.register": register,
        "accreditation.entry": entry,
        "organisations.organisation": Organisation.objects.create(
            name="Gemeente Zwolle", oin="00000001001234567000", debtor_number=10001
        ),
        "transmission.transmission": Transmission.objects.create(
            invoice=invoice, receiver="0190:00000001001234567000"
        ),
        # Second factors (werkplaats/twofactor): the superuser's only.
        "otp_totp.totpdevice": TOTPDevice.objects.create(user=outsider, name="App"),
        "otp_static.staticdevice": StaticDevice.objects.create(user=outsider, name="Codes"),
    }
    return {
        "edition": open_edition,
        "registration": registration,
        "invoiced": invoiced,
        "invoice": invoice,
        "issuer": invoicing,
        "attended": attended,
        "certificate": certificate,
        "rows": rows,
        "people": {
            MEDEWERKERS: staff_member,
            FINANCIEN: finance_user,
            OUTSIDER: outsider,
            COACH: coach_user,
        },
    }


def _material(edition):
    material = Material.objects.create(edition=edition, title="Slagkracht in de wijk")
    material.store(tiny_pdf(), "slagkracht.pdf")
    return material


def _reminder_settings():
    settings = ReminderSettings.load()
    settings.save()
    return settings


def log_in(client, request, persona):
    if persona != ANONYMOUS:
        client.force_login(request.getfixturevalue(FIXTURE[persona]))
    return client


# The groups, as the migrations make them


def _perms(*names):
    return set(names)


CONTENT = [
    f"programme.{action}_{model}"
    for model in ["edition", "section", "contact", "day", "session"]
    for action in ["add", "change", "delete", "view"]
]
GROUP_PERMISSIONS = {
    "Medewerkers": _perms(
        *CONTENT,
        "registrations.add_registration",
        "registrations.change_registration",
        "registrations.delete_registration",
        "registrations.view_registration",
        "registrations.view_order",
        "registrations.change_order",
        "registrations.view_retentionrecord",
        "registrations.view_waitinglistoffer",
        "programme.view_privacystatement",
        "programme.add_privacystatement",
        "programme.change_privacystatement",
        "invoicing.view_invoice",
        "invoicing.view_invoiceline",
        "invoicing.view_bulkjob",
        "attendance.view_certificate",
        # Messages to participants and their preparation material: staff's, never finance's.
        "participant_messages.add_message",
        "participant_messages.change_message",
        "participant_messages.delete_message",
        "participant_messages.view_message",
        "participant_messages.send_message",
        "participant_messages.view_recipient",
        "participant_messages.add_material",
        "participant_messages.change_material",
        "participant_messages.delete_material",
        "participant_messages.view_material",
        # The cases and the coach conversations (registrations/intake, registrations/coaching).
        "intake.add_intake",
        "intake.change_intake",
        "intake.delete_intake",
        "intake.view_intake",
        "intake.add_question",
        "intake.change_question",
        "intake.delete_question",
        "intake.view_question",
        "intake.view_answer",
        "coaching.add_coach",
        "coaching.change_coach",
        "coaching.delete_coach",
        "coaching.view_coach",
        "coaching.add_coachslot",
        "coaching.change_coachslot",
        "coaching.delete_coachslot",
        "coaching.view_coachslot",
        # The registers of an edition and the registration numbers (registrations/accreditation).
        "accreditation.add_register",
        "accreditation.change_register",
        "accreditation.delete_register",
        "accreditation.view_register",
        "accreditation.add_entry",
        "accreditation.change_entry",
        "accreditation.delete_entry",
        "accreditation.view_entry",
        "organisations.view_organisation",
        # Who exported, ran a bulk action or signed in: read, never changed.
        "accesslog.view_accesslogentry",
        # The evaluation per edition: its questions and results (registrations/evaluation).
        "evaluation.add_questionnaire",
        "evaluation.change_questionnaire",
        "evaluation.delete_questionnaire",
        "evaluation.view_questionnaire",
        "evaluation.add_question",
        "evaluation.change_question",
        "evaluation.delete_question",
        "evaluation.view_question",
        # A person's request to see or erase their data (registrations/privacy).
        "privacy.give_access",
        "privacy.erase_person",
    ),
    # A coach: their own schedule with each person's case, nothing else.
    "Coaches": _perms("coaching.view_own_schedule"),
    "Financiën": _perms(
        "programme.view_edition",
        "programme.change_edition_price",
        "registrations.view_registration",
        "registrations.view_order",
        "registrations.change_billing",
        "invoicing.view_invoice",
        "invoicing.issue_invoice",
        "invoicing.credit_invoice",
        "invoicing.mark_paid",
        "invoicing.send_invoice",
        "invoicing.view_invoiceline",
        "invoicing.view_invoiceissuer",
        "invoicing.add_invoiceissuer",
        "invoicing.change_invoiceissuer",
        "invoicing.view_bulkjob",
        "attendance.view_certificate",
        "payments.view_bankstatement",
        "payments.add_bankstatement",
        "payments.view_payment",
        "payments.change_payment",
        "payments.view_allocation",
        "payments.view_invoicehold",
        "payments.add_invoicehold",
        "payments.change_invoicehold",
        "payments.delete_invoicehold",
        "payments.view_reminder",
        "payments.view_remindersettings",
        "payments.change_remindersettings",
        "payments.view_ledgeraccount",
        "payments.add_ledgeraccount",
        "payments.change_ledgeraccount",
        "payments.delete_ledgeraccount",
        "payments.view_costcentre",
        "payments.add_costcentre",
        "payments.change_costcentre",
        "payments.delete_costcentre",
        "organisations.view_organisation",
        "organisations.add_organisation",
        "organisations.change_organisation",
        "transmission.view_transmission",
        "transmission.change_transmission",
    ),
}


@pytest.mark.parametrize(
    "group",
    [
        "Medewerkers",
        "Financiën",
        "Coaches",
    ],
    ids=["Medewerkers", "Financien", "Coaches"],
)
def test_each_group_holds_exactly_the_permissions_of_its_responsibility(db, group):
    held = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Group.objects.get(name=group).permissions.select_related("content_type")
    }
    assert held == GROUP_PERMISSIONS[group]


# Every page of every registered model admin

ALL_403 = (403, 403, 403)
NO_GROUP_MODEL = dict.fromkeys(["changelist", "add", "change", "delete", "history"], ALL_403)


# (Medewerkers, Financiën, outsider); anonymous visitors always go to the login page.
PAGES = {
    "auth.group": NO_GROUP_MODEL,
    "auth.user": {**NO_GROUP_MODEL, "password_change": ALL_403},
    "axes.accessattempt": NO_GROUP_MODEL,
    "axes.accesslog": NO_GROUP_MODEL,
    "axes.accessfailurelog": NO_GROUP_MODEL,
    "django_tasks_database.dbtaskresult": NO_GROUP_MODEL,
    # Second factors: nobody's but the superuser's; no page shows a secret or its QR code.
    # Its secret's pages (config, qrcode) are not served: tests/test_admin_identifiers.py.
    "otp_totp.totpdevice": NO_GROUP_MODEL,
    "otp_static.staticdevice": NO_GROUP_MODEL,
    "programme.edition": {
        "changelist": (200, 200, 403),
        "add": (200, 403, 403),
        "change": (200, 200, 403),
        "delete": (200, 403, 403),
        "history": (200, 200, 403),
        # The days themselves: recording attendance and printing badges is the Medewerkers'
        # work; the attendance list (PDF, CSV) may be read by whoever sees registrations.
        "checkin": (200, 403, 403),
        "attendance_pdf": (200, 200, 403),
        "attendance_csv": (200, 200, 403),
        "badges": (200, 403, 403),
        # The statistics, per edition and across editions: whoever sees registrations.
        "statistics": (200, 200, 403),
        "statistics_csv": (200, 200, 403),
        "statistics_all": (200, 200, 403),
        "statistics_all_csv": (200, 200, 403),
    },
    "registrations.registration": {
        "changelist": (200, 200, 403),
        "add": (200, 403, 403),
        "change": (200, 200, 403),
        "delete": (200, 403, 403),
        "history": (200, 200, 403),
        # Finance's "Corrigeren en opnieuw factureren", on an invoiced registration.
        "correct": (403, 200, 403),
        # A person's rights: Medewerkers find them, give their file (a POST) and erase them.
        "privacy": (200, 403, 403),
        "privacy_file": (405, 403, 403),
        "privacy_erase": (200, 403, 403),
    },
    # Orders come from sign-up; Medewerkers correct who signed up, both correct the invoice
    # details (Financiën under change_billing); nobody adds or deletes one here.
    "registrations.order": {
        "changelist": (200, 200, 403),
        "add": ALL_403,
        "change": (200, 200, 403),
        "delete": ALL_403,
        "history": (200, 200, 403),
        # Finance's control linking the order to its organisation: a POST only.
        "debtor": (403, 405, 403),
    },
    # What the retention job did: Medewerkers read it; nobody adds, changes or deletes it.
    "registrations.retentionrecord": {
        "changelist": (200, 403, 403),
        "add": ALL_403,
        "change": (200, 403, 403),
        "delete": ALL_403,
        "history": (200, 403, 403),
    },
    # The access log: Medewerkers read it; nobody adds, changes or deletes an entry.
    "accesslog.accesslogentry": {
        "changelist": (200, 403, 403),
        "add": ALL_403,
        "change": (200, 403, 403),
        "delete": ALL_403,
        "history": (200, 403, 403),
    },
    # Offers of freed places: Medewerkers follow them; they move by themselves, nobody edits.
    "registrations.waitinglistoffer": {
        "changelist": (200, 403, 403),
        "add": ALL_403,
        "change": (200, 403, 403),
        "delete": ALL_403,
        "history": (200, 403, 403),
    },
    "invoicing.invoice": {
        "changelist": (200, 200, 403),
        "add": ALL_403,
        "change": (200, 200, 403),  # read-only
        "delete": ALL_403,  # with an explanation page for the groups
        "history": (200, 200, 403),
        "pdf": (200, 200, 403),
        "ubl": (200, 200, 403),  # the e-invoice, beside the PDF
    },
    "attendance.certificate": {
        "changelist": (200, 200, 403),
        "add": ALL_403,
        "change": (200, 200, 403),  # read-only: a certificate is a snapshot
        "delete": ALL_403,
        "history": (200, 200, 403),
        "pdf": (200, 200, 403),
    },
    # A long admin action's progress and result: for whoever may do that action (a ZIP job
    # here; the other kinds are finance's, see test_bulk_jobs.py). Nobody edits a job.
    "invoicing.bulkjob": {
        "changelist": (200, 200, 403),
        "add": ALL_403,
        "change": (200, 200, 403),
        "delete": ALL_403,
        "history": (200, 200, 403),
        "download": (200, 200, 403),
    },
    "programme.privacystatement": {
        # One row, kept by Medewerkers: the list goes straight to it.
        "changelist": (302, 403, 403),
        "add": ALL_403,  # the one row exists
        "change": (200, 403, 403),
        "delete": ALL_403,
        "history": (200, 403, 403),
    },
    # Payments are finance's: statements read in, the queue, the overview, reminders, holds.
    "payments.bankstatement": {
        "changelist": (403, 200, 403),
        "add": ALL_403,  # reading in is the upload page
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
        "upload": (403, 200, 403),
    },
    "payments.payment": {
        "changelist": (403, 200, 403),
        "add": ALL_403,
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
        "assign": (403, 200, 403),
        "overview": (403, 200, 403),
    },
    "payments.reminder": {
        "changelist": (403, 200, 403),
        "add": ALL_403,
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
    },
    "payments.invoicehold": {
        "changelist": (403, 200, 403),
        "add": ALL_403,  # from the invoice list's action
        "change": (403, 200, 403),
        "delete": (403, 200, 403),
        "history": (403, 200, 403),
    },
    # The bookkeeping codes: finance sets them.
    "payments.ledgeraccount": {
        "changelist": (403, 200, 403),
        "add": (403, 200, 403),
        "change": (403, 200, 403),
        "delete": (403, 200, 403),
        "history": (403, 200, 403),
    },
    "payments.costcentre": {
        "changelist": (403, 200, 403),
        "add": (403, 200, 403),
        "change": (403, 200, 403),
        "delete": (403, 200, 403),
        "history": (403, 200, 403),
    },
    # The register of organisations (debtors): finance keeps it, as the invoices; Medewerkers
    # read it (an order names its organisation). Nobody deletes one: its debtor number is in
    # the bookkeeping.
    "organisations.organisation": {
        "changelist": (200, 200, 403),
        "add": (403, 200, 403),
        "change": (200, 200, 403),
        "delete": ALL_403,
        "history": (200, 200, 403),
    },
    # E-invoices over Peppol: finance follows them and decides about a refused one; nobody
    # adds or deletes one (the invoice's sending makes it).
    "transmission.transmission": {
        "changelist": (403, 200, 403),
        "add": ALL_403,
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
    },
    "payments.remindersettings": {
        "changelist": (403, 302, 403),
        "add": ALL_403,
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
    },
    # Messages to participants: Medewerkers write, preview, test and send them; finance not.
    "participant_messages.message": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),  # not once sent
        "history": (200, 403, 403),
        "send": (200, 403, 403),
    },
    # Preparation material: Medewerkers upload and release it; finance not.
    "participant_messages.material": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
        "download": (200, 403, 403),
    },
    # The cases: Medewerkers, who prepare the days; never finance (tests/test_intake.py).
    "intake.intake": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
        "cases": (200, 403, 403),
        "cases_pdf": (200, 403, 403),
        "cases_csv": (200, 403, 403),
    },
    # The evaluation and its anonymous results: Medewerkers (tests/test_evaluation.py).
    "evaluation.questionnaire": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
        "results": (200, 403, 403),
        "results_csv": (200, 403, 403),
    },
    "coaching.coach": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
    },
    # The registers that accredit an edition, the numbers participants gave, and a register's
    # export (personal data): Medewerkers'.
    "accreditation.register": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
        "export": (200, 403, 403),
    },
    "accreditation.entry": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
    },
    "coaching.coachslot": {
        "changelist": (200, 403, 403),
        "add": (200, 403, 403),
        "change": (200, 403, 403),
        "delete": (200, 403, 403),
        "history": (200, 403, 403),
        "schedule": (200, 403, 403),
        "schedule_pdf": (200, 403, 403),
        "schedule_csv": (200, 403, 403),
        "without_slot": (200, 403, 403),
        # A coach's own schedule: only someone in the group Coaches linked to a coach.
        "own_schedule": ALL_403,
        "own_schedule_pdf": ALL_403,
    },
    "invoicing.invoiceissuer": {
        # One row: the list goes straight to it.
        "changelist": (403, 302, 403),
        "add": ALL_403,  # the one row exists
        "change": (403, 200, 403),
        "delete": ALL_403,
        "history": (403, 200, 403),
    },
}


def _page_cases():
    for label, kinds in PAGES.items():
        for kind, codes in kinds.items():
            for persona, code in [*zip(LOGGED_IN, codes, strict=True), (ANONYMOUS, 302)]:
                yield pytest.param(
                    persona, label, kind, code, id=f"{persona}-{label}-{kind}-{code}"
                )


def _page_url(world, label, kind):
    app_label, model_name = label.split(".")
    name = f"admin:{app_label}_{model_name}_{kind}"
    if kind in ("changelist", "add"):
        return reverse(name)
    if kind == "pdf" and label == "attendance.certificate":
        return reverse(name, args=[world["certificate"].pk])
    if kind in ("pdf", "ubl"):
        return reverse(name, args=[world["invoice"].number])
    if kind in ("attendance_pdf", "attendance_csv"):
        edition = world["edition"]
        return reverse(name, args=[edition.pk, edition.start_date.isoformat()])
    if kind in ("statistics_all", "statistics_all_csv"):
        return reverse(name)
    if kind in ("checkin", "badges", "statistics", "statistics_csv"):
        return reverse(name, args=[world["edition"].pk])
    if kind == "download":
        return reverse(name, args=[world["rows"][label].pk])
    if kind == "correct":
        return reverse(name, args=[world["invoiced"].pk])
    if kind in ("privacy", "privacy_file", "privacy_erase"):
        return f"{reverse(name)}?email={world['registration'].email}"
    if kind in ("upload", "overview"):
        return reverse(name)
    if kind == "assign":
        return reverse(name, args=[world["rows"][label].pk])
    if kind in ("cases", "cases_pdf", "cases_csv", "results", "results_csv"):
        return reverse(name, args=[world["rows"][label].pk])
    if kind in ("schedule", "schedule_pdf", "schedule_csv"):
        return reverse(name, args=[world["rows"]["coaching.coach"].pk, world["edition"].pk])
    if kind == "without_slot":
        return reverse(name, args=[world["edition"].pk])
    if kind in ("own_schedule", "own_schedule_pdf"):
        return reverse(name)
    return reverse(name, args=[world["rows"][label].pk])


def test_the_matrix_covers_every_page_of_every_registered_model():
    registered = {}
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        registered[model._meta.label_lower] = {
            pattern.name.removeprefix(prefix)
            for pattern in model_admin.get_urls()
            if pattern.name and pattern.name not in SECRET_PAGES
        }
    assert registered == {label: set(kinds) for label, kinds in PAGES.items()}


@pytest.mark.parametrize("persona, label, kind, status", list(_page_cases()))
def test_each_persona_gets_the_right_answer_on_each_admin_page(
    client, world, request, persona, label, kind, status
):
    log_in(client, request, persona)
    url = _page_url(world, label, kind)
    response = client.get(url)
    assert response.status_code == status, response.get("Location")
    if persona == ANONYMOUS:
        assert response["Location"].startswith(f"{LOGIN}?next=")
    elif status == 302:  # a one-row model's list, to its only row, which this persona opens
        only = apps.get_model(label).objects.get()  # raises unless there is exactly one row
        change = reverse(f"admin:{label.replace('.', '_')}_change", args=[only.pk])
        assert response["Location"] == change == _page_url(world, label, "change")
        assert client.get(change).status_code == 200
    if label == "invoicing.invoice" and kind == "delete" and persona in (MEDEWERKERS, FINANCIEN):
        assert "wordt nooit verwijderd, door niemand" in response.content.decode()
    if label == "invoicing.invoice" and kind == "change" and status == 200:
        assert 'name="_save"' not in response.content.decode()


# Nobody adds, changes or deletes an invoice, not even by a crafted POST


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_adds_changes_or_deletes_an_invoice(client, world, request, persona):
    log_in(client, request, persona)
    invoice = world["invoice"]
    before = _refreshed(invoice, "customer_organisation", "total_incl_vat")
    expected = 302 if persona == ANONYMOUS else 403
    add = client.post(reverse("admin:invoicing_invoice_add"), {"number": "2099-0001"})
    change = client.post(
        reverse("admin:invoicing_invoice_change", args=[invoice.pk]),
        {"customer_organisation": "Overgenomen", "total_incl_vat": "1.00", "_save": "Opslaan"},
    )
    delete = client.post(
        reverse("admin:invoicing_invoice_delete", args=[invoice.pk]), {"post": "yes"}
    )
    assert [add.status_code, change.status_code, delete.status_code] == [expected] * 3
    assert Invoice.objects.count() == 1
    assert _refreshed(invoice, "customer_organisation", "total_incl_vat") == before


# Actions: offered exactly to the right role; for any other, a POST changes nothing

# changelist -> action -> the personas to whom it is offered
ACTIONS = {
    "registrations_registration": {
        "confirm_from_waiting_list": {MEDEWERKERS},
        "cancel_registrations": {MEDEWERKERS},
        "reinstate_registrations": {MEDEWERKERS},
        "resend_confirmation": {MEDEWERKERS},
        "export_participants": {MEDEWERKERS, FINANCIEN},
        "export_venue_list": {MEDEWERKERS, FINANCIEN},
        "issue_invoices": {FINANCIEN},
        "issue_combined_invoice": {FINANCIEN},
        "delete_selected": {MEDEWERKERS},
        "name_badges": {MEDEWERKERS},
        "mark_no_show": {MEDEWERKERS},
        "send_certificates": {MEDEWERKERS},
    },
    "programme_edition": {
        "duplicate_editions": {MEDEWERKERS},
        "delete_selected": {MEDEWERKERS},
        "name_badges": {MEDEWERKERS},
    },
    "invoicing_invoice": {
        "download_zip": {MEDEWERKERS, FINANCIEN},
        "export_bookkeeping": {MEDEWERKERS, FINANCIEN},
        "mark_paid": {FINANCIEN},
        "mark_refunded": {FINANCIEN},
        "create_credit_notes": {FINANCIEN},
        "email_invoices": {FINANCIEN},
        "restore_documents": {FINANCIEN},
        "send_reminder": {FINANCIEN},
        "hold_reminders": {FINANCIEN},
        "transfer_payment": {FINANCIEN},
        "send_over_peppol": {FINANCIEN},
    },
    "transmission_transmission": {
        "send_by_email": {FINANCIEN},
        "send_by_peppol": {FINANCIEN},
    },
    "payments_payment": {
        "mark_not_ours": {FINANCIEN},
        "export_payments": {FINANCIEN},
    },
    "coaching_coachslot": {
        "free_slots": {MEDEWERKERS},
        "delete_selected": {MEDEWERKERS},
    },
    "accreditation_entry": {
        "mark_final_assignment_passed": {MEDEWERKERS},
        "mark_final_assignment_not_passed": {MEDEWERKERS},
        "delete_selected": {MEDEWERKERS},
    },
    "registrations_order": {
        "link_debtors": {FINANCIEN},
        "issue_and_send_orders": {FINANCIEN},
        "resend_order_invoices": {FINANCIEN},
        "set_pays_after": {FINANCIEN},
    },
}


@pytest.mark.parametrize("persona", [MEDEWERKERS, FINANCIEN])
@pytest.mark.parametrize("changelist", list(ACTIONS))
def test_each_changelist_offers_exactly_the_actions_of_the_role(
    client, world, request, changelist, persona
):
    log_in(client, request, persona)
    response = client.get(reverse(f"admin:{changelist}_changelist"))
    if response.status_code == 403:  # a list the role does not see offers it nothing
        assert not any(persona in roles for roles in ACTIONS[changelist].values())
        return
    assert response.status_code == 200
    action_form = response.context["action_form"]  # None when no action is offered
    choices = action_form.fields["action"].choices if action_form else []
    offered = {name for name, _label in choices if name}
    assert offered == {a for a, roles in ACTIONS[changelist].items() if persona in roles}


def _today():
    return timezone.localdate().isoformat()


def _refreshed(obj, *fields):
    obj.refresh_from_db()
    return tuple(getattr(obj, field) for field in fields)


def _prepare(action, changelist, world, mailoutbox):
    """(the rows to select, extra POST data, what the action would change)."""
    edition = world["edition"]
    if changelist == "registrations_registration":
        if action == "confirm_from_waiting_list":
            waiting = make_registration(edition, status=Registration.Status.WAITING)
            return [waiting], {"apply": "1"}, lambda: _refreshed(waiting, "status")
        if action == "send_certificates":
            attended = world["attended"]
            Certificate.objects.all().delete()
            Attendance.objects.create(
                registration=attended, date=attended.edition.end_date, present=True
            )
            return (
                [attended],
                {"apply": "1"},
                lambda: (Certificate.objects.count(), len(mailoutbox)),
            )
        if action == "reinstate_registrations":
            cancelled = make_registration(edition, status=Registration.Status.CANCELLED)
            return (
                [cancelled],
                {"apply": "1"},
                lambda: _refreshed(cancelled, "status", "cancelled_at"),
            )
        registration = world["registration"]
        observe = {
            "cancel_registrations": lambda: _refreshed(registration, "status", "cancelled_at"),
            "resend_confirmation": lambda: (
                _refreshed(registration, "confirmation_sent_at"),
                len(mailoutbox),
            ),
            "issue_invoices": lambda: Invoice.objects.for_registration(registration).count(),
            "issue_combined_invoice": lambda: Invoice.objects.for_registration(
                registration
            ).count(),
            "mark_no_show": lambda: registration.attendances.count(),
            "delete_selected": lambda: Registration.objects.filter(pk=registration.pk).exists(),
        }.get(action)
        # "apply": the confirmation page of a mailing action, confirmed.
        return [registration], {"post": "yes", "apply": "1"}, observe
    if changelist == "programme_edition":
        if action == "delete_selected":
            spare = make_edition(slug="zonder-inschrijvingen")
            return [spare], {"post": "yes"}, lambda: Edition.objects.filter(pk=spare.pk).exists()
        if action == "name_badges":
            return [edition], {}, None  # a download
        return [edition], {}, lambda: Edition.objects.count()
    if changelist == "coaching_coachslot":
        slot = world["rows"]["coaching.coachslot"]
        if action == "free_slots":
            CoachSlot.objects.filter(pk=slot.pk).update(registration=world["registration"])
            return [slot], {}, lambda: _refreshed(slot, "registration_id")
        return [slot], {"post": "yes"}, lambda: CoachSlot.objects.filter(pk=slot.pk).exists()
    if changelist == "accreditation_entry":
        entry = world["rows"]["accreditation.entry"]
        if action == "mark_final_assignment_passed":
            return [entry], {}, lambda: _refreshed(entry, "final_assignment_passed")
        if action == "mark_final_assignment_not_passed":
            Entry.objects.filter(pk=entry.pk).update(final_assignment_passed=True)
            return [entry], {}, lambda: _refreshed(entry, "final_assignment_passed")
        return [entry], {"post": "yes"}, lambda: Entry.objects.filter(pk=entry.pk).exists()
    if changelist == "registrations_order":
        if action == "issue_and_send_orders":
            order = make_registration(edition, email="nieuw@example.nl").order
            return [order], {"apply": "1"}, lambda: Invoice.objects.filter(order=order).count()
        if action == "resend_order_invoices":
            invoice = world["rows"]["invoicing.invoice"]
            return (
                [invoice.order],
                {"apply": "1"},
                lambda: (_refreshed(invoice, "emailed_at"), len(mailoutbox)),
            )
        if action == "set_pays_after":
            order = world["registration"].order
            return (
                [order],
                {"apply": "1", "pays_after": _today()},
                lambda: list(OrderInvoicing.objects.filter(order=order).values("pays_after")),
            )
        order = world["registration"].order
        return [order], {}, lambda: _refreshed(order, "debtor_id")
    if changelist == "payments_payment":
        payment = world["rows"]["payments.payment"]
        if action == "export_payments":
            return [payment], {}, None  # a download
        return [payment], {}, lambda: _refreshed(payment, "state")
    if changelist == "transmission_transmission":
        transmission = world["rows"]["transmission.transmission"]
        return [transmission], {}, lambda: _refreshed(transmission, "channel_set_by", "status")
    invoice = world["invoice"]
    if action == "send_over_peppol":
        transmission = world["rows"]["transmission.transmission"]
        return [invoice], {}, lambda: _refreshed(transmission, "channel_set_by")
    if action == "send_reminder":
        late = issue_invoice(
            make_registration(edition, first_name="Laat"),
            at=timezone.now() - datetime.timedelta(days=60),
        )
        return [late], {"apply": "1"}, lambda: Reminder.objects.filter(invoice=late).count()
    if action == "transfer_payment":
        record_payment(invoice, timezone.localdate())
        credit_invoice(invoice)
        other = issue_invoice(make_registration(edition, first_name="Nieuw"))
        return (
            [invoice],
            {"apply": "1", "target": other.number},
            lambda: _refreshed(other, "paid_on"),
        )
    if action == "hold_reminders":
        InvoiceHold.objects.all().delete()
        return (
            [invoice],
            {"apply": "1", "reason": "Gemeente betaalt na afloop"},
            lambda: InvoiceHold.objects.count(),
        )
    if action == "mark_paid":
        return (
            [invoice],
            {"apply": "1", "paid_on": _today()},
            lambda: _refreshed(invoice, "paid_on"),
        )
    if action == "mark_refunded":
        record_payment(invoice, timezone.localdate())
        credit = credit_invoice(invoice)
        return (
            [credit],
            {"apply": "1", "refunded_on": _today()},
            lambda: _refreshed(credit, "refunded_on"),
        )
    if action == "create_credit_notes":
        return [invoice], {"apply": "1"}, lambda: Invoice.objects.credit_notes().count()
    if action == "email_invoices":
        return (
            [invoice],
            {"apply": "1"},
            lambda: (_refreshed(invoice, "emailed_at"), len(mailoutbox)),
        )
    if action == "restore_documents":
        InvoiceDocument.objects.filter(invoice=invoice).delete()
        return [invoice], {}, lambda: InvoiceDocument.objects.filter(invoice=invoice).exists()
    return [invoice], {}, None  # downloads: nothing to change


def _action_cases():
    for changelist, actions in ACTIONS.items():
        for action, roles in actions.items():
            for persona in PERSONAS:
                verdict = "allowed" if persona in roles else "refused"
                yield pytest.param(
                    changelist,
                    action,
                    persona,
                    persona in roles,
                    id=f"{changelist.split('_', 1)[1]}-{action}-{persona}-{verdict}",
                )


@pytest.mark.parametrize("changelist, action, persona, allowed", list(_action_cases()))
def test_an_action_works_for_its_role_and_changes_nothing_for_any_other(
    client, world, request, mailoutbox, changelist, action, persona, allowed
):
    rows, extra, observe = _prepare(action, changelist, world, mailoutbox)
    before = observe() if observe else None
    log_in(client, request, persona)
    response = client.post(
        reverse(f"admin:{changelist}_changelist"),
        {"action": action, "_selected_action": [row.pk for row in rows], "index": 0, **extra},
    )
    if observe is None:
        # An export or download: a file for the role, nothing for anyone else.
        is_file = response.status_code == 200 and "attachment" in response.get(
            "Content-Disposition", ""
        )
        assert is_file == allowed, (response.status_code, response.get("Location"))
    elif allowed:
        assert response.status_code == 302, response.context and response.context.get("errors")
        assert observe() != before, "the action did nothing for the role it belongs to"
    else:
        assert observe() == before
    if persona == ANONYMOUS:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{LOGIN}?next=")
    elif persona == OUTSIDER:
        assert response.status_code == 403


# The change forms: the money belongs to Financiën, the participants to Medewerkers


def edition_url(edition):
    return reverse("admin:programme_edition_change", args=[edition.pk])


def registration_url(registration):
    return reverse("admin:registrations_registration_change", args=[registration.pk])


def test_medewerkers_save_an_edition_but_not_its_price(client, world, staff_member):
    edition = world["edition"]
    client.force_login(staff_member)
    page = client.get(edition_url(edition))
    data = form_data(
        page,
        "edition_form",
        venue_city="Zeist",
        price_excl_vat="2500.00",
        vat_rate="9",
        vat_exemption_text="Vrijgesteld",
    )
    response = client.post(edition_url(edition), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    edition.refresh_from_db()
    assert edition.venue_city == "Zeist"
    assert (edition.price_excl_vat, edition.vat_exemption_text) == (Decimal("1800.00"), "")
    assert 'name="price_excl_vat"' not in page.content.decode()


def test_financien_change_the_edition_price_but_not_its_title(client, world, finance_user):
    edition = world["edition"]
    title = edition.title
    client.force_login(finance_user)
    page = client.get(edition_url(edition))
    html = page.content.decode()
    assert 'name="price_excl_vat"' in html and 'name="vat_exemption_text"' in html
    assert 'name="title"' not in html and 'name="venue_city"' not in html
    data = form_data(
        page, "edition_form", price_excl_vat="2000.00", title="Overgenomen", venue_city="Zeist"
    )
    response = client.post(edition_url(edition), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    edition.refresh_from_db()
    assert edition.price_excl_vat == Decimal("2000.00")
    assert (edition.title, edition.venue_city) == (title, "Doorn")


FIELD_CASES = [
    (FINANCIEN, "invoice_street", "Nieuwe Gracht 5", True),
    (FINANCIEN, "po_number", "PO-NIEUW", True),
    (FINANCIEN, "price_excl_vat", "1500.00", True),
    (FINANCIEN, "vat_exemption_text", "Vrijgesteld van btw", True),
    (FINANCIEN, "first_name", "Gewijzigd", False),
    (FINANCIEN, "email", "ander@example.nl", False),
    (FINANCIEN, "dietary_needs", "veganistisch", False),
    (MEDEWERKERS, "first_name", "Gewijzigd", True),
    (MEDEWERKERS, "invoice_street", "Nieuwe Gracht 5", True),
    (MEDEWERKERS, "price_excl_vat", "1500.00", False),
    (MEDEWERKERS, "vat_exemption_text", "Vrijgesteld van btw", False),
]


@pytest.mark.parametrize(
    "persona, field, value, may",
    [
        pytest.param(*case, id=f"{case[0]}-{case[1]}-{'may' if case[3] else 'may-not'}")
        for case in FIELD_CASES
    ],
)
def test_who_changes_which_registration_field(client, world, request, persona, field, value, may):
    # The invoice details are the order's: they are changed on the order's page.
    on_order = field.startswith("invoice_") or field == "po_number"
    row = world["registration"].order if on_order else world["registration"]
    url = reverse(f"admin:registrations_{row._meta.model_name}_change", args=[row.pk])
    before = getattr(row, field)
    log_in(client, request, persona)
    page = client.get(url)
    assert (f'name="{field}"' in page.content.decode()) == may
    response = client.post(url, form_data(page, f"{row._meta.model_name}_form", **{field: value}))
    assert response.status_code == 302, response.context and response.context["errors"]
    row.refresh_from_db()
    after = getattr(row, field)
    expected = (Decimal(value) if field == "price_excl_vat" else value) if may else before
    assert after == expected


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_changes_status_or_consent_through_the_change_form(client, world, request, persona):
    registration = world["registration"]
    before = _refreshed(
        registration,
        "status",
        "cancelled_at",
        "created_at",
    )
    log_in(client, request, persona)
    url = registration_url(registration)
    page = client.get(url)
    data = form_data(page, "registration_form") if page.status_code == 200 else {}
    typed = "2020-01-01 10:00:00"
    data.update(
        status="cancelled",
        terms_accepted_at=typed,
        privacy_accepted_at=typed,
        cancelled_at=typed,
        created_at=typed,
    )
    response = client.post(url, data)
    expected = {MEDEWERKERS: 302, FINANCIEN: 302, OUTSIDER: 403, ANONYMOUS: 302}[persona]
    assert response.status_code == expected
    if page.status_code == 200:
        html = page.content.decode()
        for name in ["status", "created_at"]:
            assert f'name="{name}"' not in html
    after = _refreshed(
        registration,
        "status",
        "cancelled_at",
        "created_at",
    )
    assert after == before
    assert after[0] == Registration.Status.CONFIRMED


# Finance's correction page: credit, change, issue again


@pytest.mark.parametrize("persona", PERSONAS)
def test_only_financien_correct_an_invoiced_registration(client, world, request, persona):
    invoiced = world["invoiced"]
    data = {
        name: "" if value is None else value
        for name, value in CorrectionForm(registration=invoiced).initial.items()
    }
    data["price_excl_vat"] = "1500.00"
    log_in(client, request, persona)
    response = client.post(
        reverse("admin:registrations_registration_correct", args=[invoiced.pk]), data
    )
    invoiced.refresh_from_db()
    if persona == FINANCIEN:
        assert response.status_code == 302
        assert invoiced.price_excl_vat == Decimal("1500.00")
        assert Invoice.objects.credit_notes().count() == 1
        assert Invoice.objects.for_registration(
            invoiced
        ).uncredited().get().total_excl_vat == Decimal("1500.00")
        return
    assert response.status_code == (302 if persona == ANONYMOUS else 403)
    assert invoiced.price_excl_vat == Decimal("1800.00")
    assert list(Invoice.objects.values_list("pk", flat=True)) == [world["invoice"].pk]


# A coach (group Coaches): their own schedule with each person's case, nothing else


@pytest.fixture
def coach_user(world):
    return world["people"][COACH]


COACH_PAGES = {
    ("coaching.coachslot", "own_schedule"): 200,
    ("coaching.coachslot", "own_schedule_pdf"): 200,
    # The list of slots sends a coach to their own schedule.
    ("coaching.coachslot", "changelist"): 302,
}


def _coach_cases():
    for label, kinds in PAGES.items():
        for kind in kinds:
            code = COACH_PAGES.get((label, kind), 403)
            yield pytest.param(label, kind, code, id=f"{COACH}-{label}-{kind}-{code}")


@pytest.mark.parametrize("label, kind, status", list(_coach_cases()))
def test_a_coach_gets_only_their_own_schedule_of_the_admin(
    client, world, coach_user, label, kind, status
):
    client.force_login(coach_user)
    response = client.get(_page_url(world, label, kind))
    assert response.status_code == status, response.get("Location")
    if status == 302:
        assert response["Location"] == reverse("admin:coaching_coachslot_own_schedule")


def test_a_coachs_front_page_offers_only_their_schedule(client, world, coach_user):
    client.force_login(coach_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    models = [m for app in response.context["app_list"] for m in app["models"]]
    assert [m["object_name"] for m in models] == ["CoachSlot"]


@pytest.mark.parametrize("changelist", list(ACTIONS))
def test_a_coach_runs_no_action(client, world, coach_user, changelist):
    client.force_login(coach_user)
    response = client.post(
        reverse(f"admin:{changelist}_changelist"),
        {"action": "delete_selected", "_selected_action": [1], "index": 0},
    )
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"] == reverse("admin:coaching_coachslot_own_schedule")


# The pages of the second step of signing in (werkplaats/twofactor): every signed-in account
# uses its own; wiping someone's second factor is the superuser's alone.

TWO_FACTOR_PAGES = {
    # Already verified: on to where the person was going.
    "twofactor_verify": 302,
    # A second factor is set up already: to the second step (which passes them on).
    "twofactor_setup": 302,
    "twofactor_recovery_codes": 200,
    "twofactor_reset": 403,
}


def _two_factor_cases():
    for name, code in TWO_FACTOR_PAGES.items():
        for persona in [*LOGGED_IN, COACH]:
            yield pytest.param(persona, name, code, id=f"{persona}-{name}-{code}")
        yield pytest.param(ANONYMOUS, name, 302, id=f"{ANONYMOUS}-{name}-302")


@pytest.mark.parametrize("persona, name, status", list(_two_factor_cases()))
def test_each_persona_gets_the_right_answer_on_each_two_factor_page(
    client, world, persona, name, status
):
    if persona != ANONYMOUS:
        client.force_login(world["people"][persona])
    args = [world["people"][OUTSIDER].pk] if name == "twofactor_reset" else []
    response = client.get(reverse(f"admin:{name}", args=args))
    assert response.status_code == status
    if persona == ANONYMOUS:
        assert response["Location"].startswith(f"{LOGIN}?next=")
    if name == "twofactor_reset":
        assert not LogEntry.objects.filter(object_id=str(world["people"][OUTSIDER].pk)).exists()
        assert TOTPDevice.objects.filter(user=world["people"][OUTSIDER]).exists()
