"""Personal data that leaves on time, by itself (the daily `manage.py apply_retention`).

- Diet and accessibility needs are special categories of personal data; their purpose ends
  with the event, so they are erased the day after its last day.
- Everything else personal is anonymised once the edition's retention period
  (Edition.retention_months after its last day) has passed. What invoices, certificates'
  verification and statistics need stays: organisation, sector, role, status, the agreed
  price. Invoices keep their own frozen copy and are never touched (seven years).
- Staff hear 30 days ahead which edition is due, once per edition and due date.

Every step is recorded (RetentionRecord) and can run twice a day: what is done stays done.
"""

import datetime

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date

from .accesslog.changes import log_change
from .models import Order, Registration, RegistrationChange, RetentionRecord

NOTICE_DAYS = 30

# Personal details nobody needs after the retention period. Invoices keep their own frozen
# copy of the customer's details, so the order's invoice address can go as well.
ERASED = {
    "first_name": "Geanonimiseerd",
    "last_name": "",
    "phone": "",
    "job_title": "",
    "own_case": "",
    "dietary_needs": "",
    "accessibility_needs": "",
}
ERASED_FROM_ORDER = {
    "first_name": "Geanonimiseerd",
    "last_name": "",
    "email": "geanonimiseerd@invalid",
    "phone": "",
    "invoice_attention": "",
    "invoice_street": "",
    "invoice_postcode": "",
    "invoice_email": "geanonimiseerd@invalid",
    "vat_id": "",
}


def anonymise_on(edition):
    """The first day on which `edition`'s registrations are anonymised."""
    return edition.end_date + relativedelta(months=edition.retention_months) + datetime.timedelta(1)


def _today(at):
    return amsterdam_date(at or timezone.now())


def needs_due(at=None):
    """Registrations of ended editions that still hold diet or accessibility needs."""
    return Registration.objects.filter(edition__end_date__lt=_today(at)).exclude(
        dietary_needs="", accessibility_needs=""
    )


def editions_due(at=None):
    """(edition, due date) for every edition whose retention period has passed and that
    still has registrations to anonymise."""
    today = _today(at)
    ended = Edition.objects.filter(
        end_date__lt=today, registrations__anonymised_at__isnull=True
    ).distinct()
    return [(edition, anonymise_on(edition)) for edition in ended if anonymise_on(edition) <= today]


def editions_due_within(today, days):
    """(edition, due date) for editions with registrations still to anonymise whose due date
    is at most `days` away (or has passed): staff's worklist, soonest first; one query."""
    soon = today + datetime.timedelta(days)
    # EXISTS, not a join with DISTINCT: an edition is one row however many people it had.
    kept = Registration.objects.filter(edition=models.OuterRef("pk"), anonymised_at__isnull=True)
    pending = Edition.objects.filter(models.Exists(kept))
    found = [(edition, anonymise_on(edition)) for edition in pending]
    return sorted(((e, due) for e, due in found if due <= soon), key=lambda pair: pair[1])


def editions_to_announce(at=None):
    """(edition, due date) for editions due within NOTICE_DAYS that staff have not been told of."""
    today = _today(at)
    soon = today + datetime.timedelta(NOTICE_DAYS)
    pending = Edition.objects.filter(registrations__anonymised_at__isnull=True).distinct()
    found = []
    for edition in pending:
        due = anonymise_on(edition)
        told = edition.retention_records.filter(
            action=RetentionRecord.Action.NOTICE, due_on=due
        ).exists()
        if today < due <= soon and not told:
            found.append((edition, due))
    return found


def erased_diet_count(registrations):
    """How many of `registrations` are confirmed with a diet wish: counted before the wishes
    are erased, so the statistics keep the number without keeping the wishes."""
    return registrations.confirmed().exclude(dietary_needs="").count()


@transaction.atomic
def erase_needs(at=None):
    """Erase diet and accessibility needs of ended editions; returns {edition: count}."""
    at = at or timezone.now()
    done = {}
    for edition in Edition.objects.filter(registrations__in=needs_due(at)).distinct():
        erased = needs_due(at).filter(edition=edition)
        diets = erased_diet_count(erased)
        log_change(list(erased), "Dieet- en toegankelijkheidswensen gewist (bewaartermijn)")
        count = erased.update(dietary_needs="", accessibility_needs="", updated_at=at)
        RetentionRecord.objects.create(
            edition=edition,
            action=RetentionRecord.Action.NEEDS_ERASED,
            registrations=count,
            confirmed_with_diet=diets,
            due_on=edition.end_date + datetime.timedelta(1),
            done_at=at,
        )
        done[edition] = count
    return done


def record_notice(edition, due, count, at=None):
    """Record that staff were told; False when another run already did (the constraint)."""
    try:
        with transaction.atomic():
            RetentionRecord.objects.create(
                edition=edition,
                action=RetentionRecord.Action.NOTICE,
                registrations=count,
                due_on=due,
                done_at=at or timezone.now(),
            )
    except IntegrityError:
        return False
    return True


def anonymise_registration(registration, at):
    """Erase what nobody needs of one registration (the retention job's rule, also used when
    a person asks to be erased: registrations/privacy). The caller holds its row lock."""
    for field, value in ERASED.items():
        setattr(registration, field, value)
    # Unique per edition and recognisable as erased, never a real address.
    registration.email = f"geanonimiseerd-{registration.pk}@invalid"
    registration.anonymised_at = at
    registration.save()


def anonymise_order(order, at):
    """Erase the booker's details of one order; invoices keep their own frozen copy."""
    for field, value in ERASED_FROM_ORDER.items():
        setattr(order, field, value)
    order.anonymised_at = at
    order.save()


def forget_handed_over(changes):
    """Who handed a place over goes with the registrations (the old link's record stays)."""
    return changes.exclude(previous_email="").update(previous_name="", previous_email="")


@transaction.atomic
def anonymise(edition, due, at=None):
    """Anonymise `edition`'s registrations that are not yet; returns how many."""
    at = at or timezone.now()
    registrations = list(
        Registration.objects.select_for_update().filter(edition=edition, anonymised_at__isnull=True)
    )
    # Normally erase_needs emptied the diets long before; a wish still here is counted too.
    diets = sum(
        1 for r in registrations if r.status == Registration.Status.CONFIRMED and r.dietary_needs
    )
    for registration in registrations:
        anonymise_registration(registration, at)
    log_change(registrations, "Geanonimiseerd (bewaartermijn)")
    forget_handed_over(RegistrationChange.objects.filter(registration__edition=edition))
    orders = list(
        Order.objects.select_for_update().filter(edition=edition, anonymised_at__isnull=True)
    )
    for order in orders:
        anonymise_order(order, at)
    log_change(orders, "Geanonimiseerd (bewaartermijn)")
    if registrations:
        RetentionRecord.objects.create(
            edition=edition,
            action=RetentionRecord.Action.ANONYMISED,
            registrations=len(registrations),
            confirmed_with_diet=diets,
            due_on=due,
            done_at=at,
        )
    return len(registrations)
