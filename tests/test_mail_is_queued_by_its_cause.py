"""Mail is queued where it is caused: by the view, admin action or command that frees a place
or cancels, never by a signal receiver; and an offer made where nothing queues its mail (the
shell) is mailed by the expiry job's next run, once."""

import datetime
import gc
import importlib
import inspect
import io
import types
import weakref
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db.models.signals import post_save
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks.base import Task
from django_tasks_db.models import DBTaskResult

from programme.models import Edition
from registrations import tasks
from registrations.invoicing.tasks import queue_finance_notice
from registrations.models import Registration, WaitingListOffer
from tests.conftest import admin_action, form_data, make_edition, make_registration

ROOT = Path(__file__).resolve().parent.parent
OUR_CODE = ("programme", "registrations", "werkplaats")
# What queues or sends mail; a receiver may reach none of them, however indirectly.
MAILING = {
    "enqueue",
    "aenqueue",
    "enqueue_with_transaction",
    "atomic_with",
    "send_logged",
    "send_mail",
    "send_mass_mail",
    "render_message",
}
NOW = timezone.make_aware(datetime.datetime.combine(datetime.date.today(), datetime.time(10, 0)))
REGISTRATIONS = reverse("admin:registrations_registration_changelist")


def _our_functions():
    """Every function and method defined in our code, by name (a method call is resolved by
    its name only: wider than Python would, so nothing slips through)."""
    for folder in OUR_CODE:
        for path in sorted((ROOT / folder).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            if "migrations" not in path.parts and not module.endswith(("wsgi", "__init__")):
                importlib.import_module(module)
    by_name = {}
    for obj in gc.get_objects():
        if type(obj) is types.FunctionType and (obj.__module__ or "").startswith(OUR_CODE):
            by_name.setdefault(obj.__name__, []).append(obj)
    return by_name


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def mailing_path(function, by_name=None, seen=None):
    """The chain of calls by which `function` reaches something in MAILING, or None."""
    by_name = _our_functions() if by_name is None else by_name
    seen = set() if seen is None else seen
    if function in seen:
        return None
    seen.add(function)
    for code in _code_objects(function.__code__):
        for name in code.co_names:
            if name in MAILING or isinstance(function.__globals__.get(name), Task):
                return [function.__qualname__, name]
            for callee in by_name.get(name, []):
                path = mailing_path(callee, by_name, seen)
                if path:
                    return [function.__qualname__, *path]
    return None


def our_receivers():
    """(signal, receiver) for every receiver of our code connected to any signal: Django's
    model, request and migration signals and any of ours."""
    for signal in [obj for obj in gc.get_objects() if issubclass(type(obj), Signal)]:
        for _key, receiver, _is_async in signal.receivers:
            if isinstance(receiver, weakref.ReferenceType):
                receiver = receiver()
            function = getattr(receiver, "__func__", receiver)
            if inspect.isfunction(function) and function.__module__.startswith(OUR_CODE):
                yield signal, function


def test_no_signal_receiver_queues_or_sends_mail():
    receivers = list(our_receivers())
    # The page-version receivers (programme.models, registrations.models) are found, so the
    # search does look where receivers live.
    assert {function.__name__ for _signal, function in receivers} >= {"offer_made_or_deleted"}
    by_name = _our_functions()
    mailing = {
        f"{function.__module__}.{function.__qualname__}": mailing_path(function, by_name)
        for _signal, function in receivers
    }
    assert {name: path for name, path in mailing.items() if path} == {}


def test_the_receiver_check_catches_a_receiver_that_queues_mail_however_indirectly(db):
    def mail_whoever_was_saved(sender, instance, created, **kwargs):
        tasks.queue_offer_mails(instance.edition)

    mail_whoever_was_saved.__module__ = "registrations.models"  # as if someone added it there
    post_save.connect(mail_whoever_was_saved, sender=Registration, weak=False)
    try:
        found = {function: mailing_path(function) for _signal, function in our_receivers()}
    finally:
        post_save.disconnect(mail_whoever_was_saved, sender=Registration)
    # Found through the function it calls, which queues the offers' mail task.
    assert found[mail_whoever_was_saved][1:3] == [
        "queue_offer_mails",
        "send_waiting_list_offer_email",
    ]


@pytest.fixture
def full(db):
    """An edition of one place, taken, and two people waiting in that order."""
    with time_machine.travel(NOW, tick=False) as clock:
        edition = make_edition(capacity=1)
        taken = make_registration(edition, first_name="Bram")
        anouk = make_registration(edition, first_name="Anouk", at=NOW)
        pieter = make_registration(
            edition, first_name="Pieter", at=NOW + datetime.timedelta(minutes=1)
        )
        yield edition, taken, anouk, pieter, clock


def offer_mails(mailoutbox, registration):
    return [m for m in mailoutbox if m.to == [registration.email] and "plaats vrij" in m.subject]


def run_the_job():
    call_command("expire_waiting_list_offers", stdout=io.StringIO())


def cancel_on_the_participants_page(client, staff_member, full):
    _edition, taken, _anouk, _pieter, _clock = full
    client.post(reverse("registrations:cancel", args=[taken.token]))


def cancel_in_the_admin(client, staff_member, full):
    client.force_login(staff_member)
    admin_action(client, REGISTRATIONS, "cancel_registrations", [full[1]], apply="1")


def delete_in_the_admin(client, staff_member, full):
    client.force_login(staff_member)
    url = reverse("admin:registrations_registration_delete", args=[full[1].pk])
    client.post(url, {"post": "yes"})


def delete_in_bulk_in_the_admin(client, staff_member, full):
    client.force_login(staff_member)
    admin_action(client, REGISTRATIONS, "delete_selected", [full[1]], post="yes")


def raise_the_maximum_in_the_admin(client, staff_member, full):
    edition = full[0]
    client.force_login(staff_member)
    url = reverse("admin:programme_edition_change", args=[edition.pk])
    client.post(url, form_data(client.get(url), "edition_form", capacity="2"))


@pytest.mark.parametrize(
    "frees_a_place",
    [
        cancel_on_the_participants_page,
        cancel_in_the_admin,
        delete_in_the_admin,
        delete_in_bulk_in_the_admin,
        raise_the_maximum_in_the_admin,
    ],
)
def test_each_path_that_frees_a_place_mails_the_offer_once(
    full, client, staff_member, mailoutbox, django_capture_on_commit_callbacks, frees_a_place
):
    edition, _taken, anouk, _pieter, _clock = full
    with django_capture_on_commit_callbacks(execute=True):
        frees_a_place(client, staff_member, full)
    offer = anouk.offers.get()
    assert offer.state == WaitingListOffer.State.OPEN
    assert len(offer_mails(mailoutbox, anouk)) == 1
    assert offer.emailed_at == NOW
    # The job finds nothing left to mail.
    with django_capture_on_commit_callbacks(execute=True):
        run_the_job()
    assert len(offer_mails(mailoutbox, anouk)) == 1


@pytest.mark.parametrize("answer", ["decline_offer", "accept_offer"])
def test_an_offer_declined_or_refused_as_lapsed_mails_the_next_in_line_once(
    full, client, mailoutbox, django_capture_on_commit_callbacks, answer
):
    _edition, taken, anouk, pieter, clock = full
    with django_capture_on_commit_callbacks(execute=True):
        taken.cancel()
        run_the_job()
    offer = anouk.offers.get()
    if answer == "accept_offer":
        # Accepted a second too late: refused, and the place passes on.
        clock.move_to(offer.expires_at + datetime.timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse(f"registrations:{answer}", args=[offer.token]))
    assert pieter.offers.get().state == WaitingListOffer.State.OPEN
    assert len(offer_mails(mailoutbox, pieter)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        run_the_job()
    assert len(offer_mails(mailoutbox, pieter)) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_saving_an_edition_in_the_shell_mails_nobody_until_the_job_runs_once(
    full, settings, mailoutbox
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    edition, _taken, anouk, _pieter, _clock = full
    edition = Edition.objects.get(pk=edition.pk)
    edition.capacity = 2
    edition.save()
    assert (WaitingListOffer.objects.count(), DBTaskResult.objects.count()) == (0, 0)
    run_the_job()
    run_the_job()
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "registrations.tasks.send_waiting_list_offer_email"
    assert queued.args_kwargs["args"] == [anouk.offers.get().pk]
    call_command("db_worker", batch=True, startup_delay=False, reload=False, stdout=io.StringIO())
    assert len(offer_mails(mailoutbox, anouk)) == 1
    # Mailed: a later run queues nothing more.
    run_the_job()
    assert DBTaskResult.objects.count() == 1


def test_the_offer_mail_queued_twice_is_sent_once(full, mailoutbox):
    _edition, taken, anouk, _pieter, _clock = full
    taken.cancel()
    offer = anouk.offers.get()
    assert tasks.send_waiting_list_offer_email.call(offer.pk) == {"offer": True}
    assert tasks.send_waiting_list_offer_email.call(offer.pk) == {"offer": "already sent"}
    assert len(offer_mails(mailoutbox, anouk)) == 1


def refuse(*args, **kwargs):
    raise OSError("mail server down")


def test_an_offer_mail_the_server_refused_is_tried_again_by_the_job(
    full, mailoutbox, monkeypatch, django_capture_on_commit_callbacks
):
    _edition, taken, anouk, _pieter, _clock = full
    with monkeypatch.context() as patch, django_capture_on_commit_callbacks(execute=True):
        patch.setattr("django.core.mail.EmailMessage.send", refuse)
        taken.cancel()
        run_the_job()
    assert anouk.offers.get().emailed_at is None
    with django_capture_on_commit_callbacks(execute=True):
        run_the_job()
    assert len(offer_mails(mailoutbox, anouk)) == 1
    assert anouk.offers.get().emailed_at == NOW


def test_every_cancellation_notice_the_settings_name_is_a_function(settings):
    # Where the project wires a layer above sign-up into a cancellation (finance's notice).
    notices = [import_string(path) for path in settings.CANCELLATION_NOTICES]
    assert notices == [queue_finance_notice]
