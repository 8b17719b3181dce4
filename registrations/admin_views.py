"""Sign-up's own admin pages: the statistics of one edition and across editions, each with
its CSV download (the figures come from registrations.statistics; these views only draw
them), and finance's control that links an order to its organisation. registrations/admin.py
wires them in with get_urls."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse

from programme.models import Edition
from werkplaats import charts, formats
from werkplaats.exports import csv_response

from . import statistics, tasks
from .accesslog.changes import log_change
from .accesslog.log import Kind, record
from .models import Order
from .organisations.models import Organisation

VIEW = "registrations.view_registration"


def _require_view(request):
    # The figures are about registrations: whoever may see those may see them.
    if not request.user.has_perm(VIEW):
        raise PermissionDenied


def _chart(figure):
    return charts.bars(
        figure.key,
        figure.title,
        figure.labels,
        figure.values,
        label_header=figure.label_header,
    )


def _page(model_admin, request, template, title, **context):
    return TemplateResponse(
        request,
        template,
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.model._meta,
            "title": title,
            **context,
        },
    )


def edition_statistics(model_admin, request, pk):
    _require_view(request)
    edition = get_object_or_404(Edition, pk=pk)
    figures = statistics.edition_figures(edition)
    return _page(
        model_admin,
        request,
        "registrations/admin_statistics.html",
        f"Statistieken: {edition}",
        edition=edition,
        figures=[(figure, _chart(figure)) for figure in figures],
    )


def edition_statistics_csv(model_admin, request, pk):
    _require_view(request)
    edition = get_object_or_404(Edition, pk=pk)
    rows = [
        [figure.title, label, value]
        for figure in statistics.edition_figures(edition)
        for label, value in figure.rows
    ]
    # Figures, no names; recorded as every export is.
    record(Kind.EXPORT, "Statistieken (CSV)", request=request, edition=edition)
    return csv_response(f"statistieken-{edition.slug}.csv", ["cijfer", "waarde", "aantal"], rows)


def _edition_label(edition):
    return formats.numeric_date(edition.start_date)


def all_statistics(model_admin, request):
    _require_view(request)
    rows, totals = statistics.across_editions()
    labels = [_edition_label(row.edition) for row in rows]
    drawn = [
        (
            "Bevestigde deelnemers per editie, op de datum van de eerste dag.",
            charts.bars(
                "confirmed",
                "Bevestigde deelnemers",
                labels,
                [row.confirmed for row in rows],
                label_header="editie",
            ),
        ),
        (
            statistics.DEFINITIONS["returning"],
            charts.lines(
                "returning",
                "Nieuwe en terugkerende organisaties",
                rows,
                [
                    ("nieuw", [row.new_organisations for row in rows]),
                    ("terugkerend", [row.returning_organisations for row in rows]),
                ],
                summary=_trend(
                    rows, nieuw="new_organisations", terugkerend="returning_organisations"
                ),
                x_header="editie",
                x_label=lambda row: _edition_label(row.edition),
            ),
        ),
        (
            statistics.DEFINITIONS["waiting"],
            charts.lines(
                "waiting",
                "Wachtlijst: gewacht en daarna bevestigd",
                rows,
                [
                    ("op de wachtlijst gestaan", [row.waited for row in rows]),
                    ("daarna bevestigd", [row.waited_then_confirmed for row in rows]),
                ],
                summary=_trend(rows, gewacht="waited", bevestigd="waited_then_confirmed"),
                x_header="editie",
                x_label=lambda row: _edition_label(row.edition),
            ),
        ),
        (
            "Geannuleerde inschrijvingen per editie.",
            charts.bars(
                "cancellations",
                "Annuleringen",
                labels,
                [row.cancelled for row in rows],
                label_header="editie",
            ),
        ),
        *[(figure.definition, _chart(figure)) for figure in totals],
    ]
    return _page(
        model_admin,
        request,
        "registrations/admin_statistics_all.html",
        "Statistieken over alle edities",
        rows=rows,
        headers=statistics.ACROSS_HEADERS,
        charts=drawn,
    )


def _trend(rows, **series):
    """The latest edition's values of a line chart, as a sentence."""
    if not rows:
        return ""
    last = rows[-1]
    values = ", ".join(f"{name} {getattr(last, field)}" for name, field in series.items())
    return f"Bij de laatste editie ({_edition_label(last.edition)}): {values}."


def all_statistics_csv(model_admin, request):
    _require_view(request)
    rows, _totals = statistics.across_editions()
    record(Kind.EXPORT, "Statistieken over alle edities (CSV)", request=request)
    return csv_response(
        "statistieken-alle-edities.csv",
        statistics.ACROSS_HEADERS,
        [row.cells for row in rows],
    )


def link_debtor(order, organisation, user):
    """Link `order` to `organisation`; the text for finance says whether it can be invoiced
    now.

    The one place an order is linked by hand (the order's page and the orders list's action),
    so it is where invoicing learns that a held order may go: Order.link_debtor() answers
    Order.invoicing_unblocked()."""
    unblocked = order.link_debtor(organisation)
    text = f"{order.reference} gekoppeld aan {organisation}"
    # The organisation's own history says which orders were linked to it, and by whom.
    log_change(organisation, f"Gekoppeld aan {order.reference}", user=user)
    if not unblocked:
        return f"{text}; wacht nog op factuurgegevens: {order.invoicing_blocker()}"
    # Where the edition sends invoices by themselves, the held invoice goes now.
    tasks.queue_invoiceable_notices(order)
    return f"{text}; klaar om te factureren"


def link_order_debtor(model_admin, request, pk):
    """The control on an order's page: link a suggested organisation (`organisation`) or one
    made from the order's own details (`create`)."""
    if not model_admin.has_billing_permission(request):
        raise PermissionDenied
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = get_object_or_404(Order, pk=pk)
    chosen = request.POST.get("organisation", "")
    if chosen.isdigit():
        organisation = get_object_or_404(Organisation, pk=int(chosen))
    elif "create" in request.POST:
        organisation = order.debtor_from_details()
    else:
        model_admin.message_user(request, "Kies een organisatie.", messages.ERROR)
        return redirect("admin:registrations_order_change", order.pk)
    text = link_debtor(order, organisation, request.user)
    model_admin.log_change(request, order, text)
    model_admin.message_user(request, f"{text}.", messages.SUCCESS)
    return redirect("admin:registrations_order_change", order.pk)
