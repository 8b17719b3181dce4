"""The back office's front page: /beheer/ opens on an overview for whoever logs in.

Django's documented way to change the admin's index: an AdminSite subclass, installed as the
default site by werkplaats.apps.AdminConfig (in INSTALLED_APPS instead of
"django.contrib.admin"), so `admin.site` everywhere is this one. Its index() adds the
overview to Django's own index page, whose list of models stays below it.

Like werkplaats/admin.py, this module joins the apps: each computes its own figures in its
own overview module (plain data, a fixed number of queries); this one composes them, and
shows each part only to the role whose work it is (the permission that work needs).
"""

from functools import partial

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import URLResolver, path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from programme.models import amsterdam_date
from registrations import overview as signup
from registrations.accesslog.admin import RecordedActionsMixin
from registrations.attendance import overview as attendance
from registrations.coaching import overview as coaching
from registrations.intake import overview as intake
from registrations.invoicing import overview as invoicing
from registrations.payments import overview as payments
from registrations.transmission import overview as transmission

from . import charts, formats
from .twofactor import devices as twofactor
from .twofactor import sessions as twofactor_sessions
from .twofactor import views as twofactor_views


class WerkplaatsAdminSite(admin.AdminSite):
    site_header = "Werkplaats – beheer"
    site_title = "Werkplaats beheer"
    index_title = "Beheer van werkplaatsen, inschrijvingen en facturen"
    index_template = "admin/overview.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every list's actions are recorded in the access log (who ran which on how many
        rows), Django's and other packages' admins included: given here once, so no app
        can forget it."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, RecordedActionsMixin):
            admin_class = type(
                admin_class.__name__,
                (RecordedActionsMixin, admin_class),
                {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
            )
        return super().register(model_or_iterable, admin_class, **options)

    def has_permission(self, request):
        """Django's rule (an active staff account) and a second factor given in this session:
        every admin page, export, download and admin JSON endpoint goes through admin_view,
        which asks this, so a password alone opens none of them."""
        return super().has_permission(request) and twofactor.is_verified(request.user)

    def login(self, request, extra_context=None):
        """The password, then the second step (werkplaats/twofactor/views.py): a signed-in
        account without its second factor goes there, wherever it was going."""
        user = request.user
        if request.method == "GET" and user.is_active and user.is_staff:
            if not twofactor.is_verified(user):
                return self.second_step(request.GET.get(REDIRECT_FIELD_NAME))
        response = super().login(request, extra_context)
        user = request.user
        if request.method == "POST" and response.status_code == 302 and user.is_authenticated:
            if not twofactor.is_verified(user):
                return self.second_step(response["Location"])
        return response

    def second_step(self, next_url):
        return HttpResponseRedirect(twofactor_views.with_next("admin:twofactor_verify", next_url))

    def logout(self, request, extra_context=None):
        """Signing out ends every session of the account, on every device."""
        if request.method == "POST" and request.user.is_authenticated:
            twofactor_sessions.end_sessions(request.user)
        return super().logout(request, extra_context)

    def get_urls(self):
        def step(view):
            return never_cache(partial(view, self))

        return [
            path("tweede-factor/", step(twofactor_views.verify), name="twofactor_verify"),
            path("tweede-factor/instellen/", step(twofactor_views.setup), name="twofactor_setup"),
            path(
                "tweede-factor/herstelcodes/",
                step(twofactor_views.recovery_codes),
                name="twofactor_recovery_codes",
            ),
            path(
                "tweede-factor/afmelden/", step(twofactor_views.sign_out), name="twofactor_sign_out"
            ),
            path(
                "tweede-factor/wissen/<int:user_id>/",
                self.admin_view(partial(twofactor_views.reset, self)),
                name="twofactor_reset",
            ),
            *self.django_urls(),
        ]

    def index(self, request, extra_context=None):
        now = timezone.now()
        context = overview(request.user, amsterdam_date(now), now)
        return super().index(request, {**context, **(extra_context or {})})

    def django_urls(self):
        """Django's URLs, with each model's old change URL (`<path:object_id>/`, which
        redirects to `<object_id>/change/`) narrowed to one path segment.

        That pattern took whatever no other URL of the model did: `*/pdf/` or a decoded
        `../../etc/passwd/pdf/` became a 302 to `../../etc/passwd/pdf/change/` and then to
        the index, where the URL of a page with an identifier promises a 404 for one that
        cannot be one. With one segment such a path reaches no pattern of the model and
        ends in the site's catch-all: a 404.
        """
        return [
            URLResolver(
                urls.pattern,
                [
                    one_segment(url)
                    for url in urls.url_patterns
                    if getattr(url, "name", None) not in SECRET_PAGES
                ],
                urls.default_kwargs,
                urls.app_name,
                urls.namespace,
            )
            if isinstance(urls, URLResolver) and isinstance(urls.urlconf_name, list)
            else urls
            for urls in super().get_urls()
        ]


# django-otp's pages that show an authenticator's secret and its QR code. The secret is never
# shown again after set-up (OTP_ADMIN_HIDE_SENSITIVE_DATA), so they answered a 403 for any
# number, a device's or not; left out, such a path is a 404 like any other unknown one.
SECRET_PAGES = {"otp_totp_totpdevice_config", "otp_totp_totpdevice_qrcode"}


def one_segment(url):
    """The pattern `<path:object_id>/` as `<str:object_id>/`; any other as it is."""
    if str(url.pattern) != "<path:object_id>/":
        return url
    return path("<str:object_id>/", url.callback, url.default_args, url.name)


def overview(user, today, now):
    """Everything the overview shows `user`, as plain data for admin/overview.html."""
    editions = signup.editions(today)
    add_signup_charts(editions, today)
    running = [edition for edition in editions if edition.is_running]
    present = attendance.present_on(today, running) if running else {}
    for edition in running:
        edition.present_today = present.get(edition.pk, 0)
    for edition in editions:
        first = edition.first_offer_expires
        edition.first_offer_expires_text = formats.moment(first) if first else ""
    # Preparing the days: who has no coach conversation or case yet (staff's, and only
    # for those who may read them).
    if editions and user.has_perm("coaching.view_coachslot"):
        without_slot = coaching.without_slot(editions)
        for edition in editions:
            edition.without_slot = without_slot.get(edition.pk)
    if editions and user.has_perm("intake.view_answer"):
        counts = intake.without_case_per_edition(editions)
        pages = intake.intakes(editions)
        for edition in editions:
            edition.without_case = counts.get(edition.pk)
            edition.intake_pk = pages.get(edition.pk)
    context = {"editions": editions, "today": today, "worklists": worklists(user, today, now)}
    if user.has_perm("invoicing.issue_invoice"):
        context["held"] = held_orders()
    # Staff may look invoices up; the money is finance's, who see the payments.
    if user.has_perm("payments.view_payment"):
        context["money"] = money(today)
    return context


def add_signup_charts(editions, today):
    """Each edition's line of cumulative confirmed sign-ups by day relative to its start,
    with the previous edition's at the same day beside it, and `last_year`: where the
    previous edition stood at today's distance from its start."""
    previous = signup.previous_editions(editions)
    drawn = editions + [edition for edition in previous.values() if edition]
    signups = signup.signups_by_day(drawn)
    for edition in editions:
        before = previous[edition.pk]
        own = signups.get(edition.pk, {})
        theirs = signups.get(before.pk, {}) if before else {}
        now_offset = (today - edition.start_date).days
        edition.signups = signup.total_at(own, now_offset)
        edition.previous = before
        edition.last_year = signup.total_at(theirs, now_offset) if before else None
        # A point a week, back from the start (or from today while the days run) to the
        # week before the first sign-up of either, so the line rises from nothing; today is
        # a point of its own.
        last = max(0, min(now_offset, (edition.end_date - edition.start_date).days))
        first = min([*own, *theirs, last]) - 1
        weekly = set(range(last, first - 7, -7))
        offsets = sorted(weekly | ({now_offset} if first <= now_offset <= last else set()))
        series = [
            (str(edition), [signup.total_at(own, d) if d <= now_offset else None for d in offsets])
        ]
        if before:
            series.append((str(before), [signup.total_at(theirs, d) for d in offsets]))
        summary = f"{edition.signups} bevestigde inschrijvingen tot nu toe"
        if before:
            summary += f"; op dit moment vorig jaar: {edition.last_year} ({before})"
        edition.chart = None
        if own or theirs:
            edition.chart = charts.lines(
                f"aanmeldingen-{edition.pk}",
                "Aanmeldingen in de tijd",
                offsets,
                series,
                summary=summary + ".",
                x_header="dag",
                x_label=relative_day,
            )


def relative_day(offset):
    if offset < 0:
        return f"{-offset} dagen voor de start"
    return "start" if offset == 0 else f"dag {offset + 1}"


def money(today):
    """Finance's figures: invoiced, paid, outstanding by age and refunds due, per edition
    and in total, and a bar chart of what is outstanding by age."""
    invoiced, total = invoicing.money_per_edition(today)
    owed = payments.outstanding(today)
    by_edition = {row["edition"].pk: row for row in owed["rows"]}
    rows = []
    for edition in signup.editions_by_pk(list(invoiced)):
        figures = invoiced[edition.pk]
        late = by_edition.get(edition.pk)
        rows.append(
            {
                "edition": edition,
                **figures,
                "outstanding": late["total"] if late else 0,
                "buckets": late["amounts"] if late else [0] * len(owed["buckets"]),
            }
        )
    chart = charts.bars(
        "openstaand-naar-leeftijd",
        "Openstaand naar leeftijd",
        owed["buckets"],
        owed["totals"],
        value_header="bedrag",
        label_header="leeftijd",
        summary=f"In totaal staat {formats.money(owed['total'])} open, "
        + ", ".join(
            f"{label} {formats.money(amount)}"
            for label, amount in zip(owed["buckets"], owed["totals"], strict=True)
        )
        + ".",
    )
    return {
        "rows": rows,
        "total": {**total, "outstanding": owed["total"], "buckets": owed["totals"]},
        "buckets": owed["buckets"],
        "chart": chart,
    }


def worklists(user, today, now):
    """[{'label', 'count', 'url'}] of the work waiting for `user`'s role, each linking to the
    list where it is done, filtered to exactly those rows; texts to supply come as 'texts'."""
    can = user.has_perm
    items = []

    def add(permission, label, count, url, query):
        if can(permission):
            items.append({"label": label, "count": count(), "url": f"{reverse(url)}?{query}"})

    add(
        "invoicing.issue_invoice",
        "Inschrijvingen nog te factureren",
        lambda: invoicing.to_invoice().count(),
        "admin:registrations_registration_changelist",
        "facturatie=te_factureren",
    )
    add(
        "invoicing.issue_invoice",
        "Bestellingen die wachten op factuurgegevens",
        lambda: invoicing.held_orders().count(),
        "admin:registrations_order_changelist",
        "factuurgegevens=wacht",
    )
    add(
        "invoicing.send_invoice",
        "Facturen nog niet gemaild",
        lambda: invoicing.not_mailed().count(),
        "admin:invoicing_invoice_changelist",
        "emailed_at__isempty=1",
    )
    add(
        "transmission.change_transmission",
        "E-facturen via Peppol die aandacht vragen (geweigerd of langer dan 24 uur onderweg)",
        lambda: transmission.needs_attention(now).count(),
        "admin:transmission_transmission_changelist",
        "werklijst=aandacht",
    )
    add(
        "payments.change_payment",
        "Bankregels in de wachtrij (niet gekoppeld)",
        lambda: payments.unmatched().count(),
        "admin:payments_payment_changelist",
        "state__exact=unmatched",
    )
    add(
        "invoicing.send_invoice",
        "Herinneringen die vandaag weg moeten",
        lambda: len(payments.reminders_due(today)),
        "admin:invoicing_invoice_changelist",
        "betaling=reminder_due",
    )
    add(
        "invoicing.credit_invoice",
        "Facturen te crediteren",
        lambda: invoicing.to_credit().count(),
        "admin:invoicing_invoice_changelist",
        "status=to_credit",
    )
    add(
        "registrations.change_registration",
        "Wachtlijstaanbiedingen die binnen 24 uur verlopen",
        lambda: signup.offers_expiring(now).count(),
        "admin:registrations_waitinglistoffer_changelist",
        "stand=expiring",
    )
    add(
        "registrations.change_registration",
        "Bewijzen van deelname nog te mailen (editie afgelopen)",
        lambda: attendance.certificates_to_send(today).count(),
        "admin:registrations_registration_changelist",
        "bewijs=te_mailen",
    )
    add(
        "registrations.view_retentionrecord",
        "Edities waarvan de bewaartermijn binnen 30 dagen afloopt",
        lambda: len(signup.retention_due(today)),
        "admin:programme_edition_changelist",
        "bewaartermijn=binnen_30",
    )
    return {"counts": items, "texts": texts(user, today)}


# The held orders the overview names, with why; the rest are in the list it links to.
HELD_SHOWN = 10


def held_orders():
    """[{'order', 'reason', 'url'}]: the first orders waiting for invoice details, oldest
    first, each with why (Order.invoicing_blocker) and its page, where finance links it."""
    held = invoicing.held_orders().select_related("debtor").order_by("created_at", "pk")
    return [
        {
            "order": order,
            "reason": order.invoicing_blocker(),
            "url": reverse("admin:registrations_order_change", args=[order.pk]),
        }
        for order in held[:HELD_SHOWN]
    ]


def texts(user, today):
    """[{'label', 'url'}]: each text staff must still supply, linked to its field."""
    found = []
    for label, obj, field in signup.missing_texts(today):
        opts = obj._meta
        if not user.has_perm(f"{opts.app_label}.change_{opts.model_name}"):
            continue
        if obj.pk:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        else:
            url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        found.append({"label": f"{obj}: {label}", "url": f"{url}#id_{field}"})
    if user.has_perm("invoicing.change_invoiceissuer"):
        for label in invoicing.issuer_missing():
            url = reverse("admin:invoicing_invoiceissuer_changelist")
            found.append({"label": f"Factuurafzender: {label}", "url": url})
    return found
