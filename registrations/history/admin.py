"""The history on the order's admin page: read-only, newest first, dates the Dutch way; and
the order's steps beside Django's own history on the "Geschiedenis" page of an order and of
a registration, so that page shows what every path did (the participant's and booker's
pages, jobs), not only what the admin's change forms did."""

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.admin.options import get_content_type_for_model
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import PAGE_VAR
from django.core.paginator import Paginator
from django.template.response import TemplateResponse

from werkplaats import formats

from .models import OrderLogEntry


class OrderLogInline(admin.TabularInline):
    model = OrderLogEntry
    fk_name = "order"
    verbose_name = "stap"
    verbose_name_plural = "bestelgeschiedenis"
    fields = ["when", "kind", "text", "who"]
    readonly_fields = ["when", "kind", "text", "who"]
    ordering = ["-at", "-pk"]
    extra = 0
    can_delete = False

    @admin.display(description="wanneer")
    def when(self, entry):
        return formats.moment(entry.at)

    @admin.display(description="door")
    def who(self, entry):
        return entry.by or "—"

    def has_view_permission(self, request, obj=None):
        # Whoever may see the order sees its history (the order's admin checked that).
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _Actor:
    """Who took an order's step, as the history page shows a user."""

    def __init__(self, username):
        self.username = username

    def get_username(self):
        return self.username or "website of systeem"

    def get_full_name(self):
        return ""


class _Step:
    """An order's step, shaped as the history page reads a LogEntry."""

    def __init__(self, entry):
        self.action_time = entry.at
        self.user = _Actor(entry.by)
        self.message = f"{entry.get_kind_display()}: {entry.text}" if entry.text else ""
        self.message = self.message or entry.get_kind_display()

    def get_change_message(self):
        return self.message


class StepsInHistoryMixin:
    """The "Geschiedenis" page with the order's steps (`history_steps(obj)`) among Django's
    own entries, oldest first as Django orders them, paginated as Django does."""

    def history_steps(self, obj):
        raise NotImplementedError

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, unquote(object_id))
        if not isinstance(response, TemplateResponse) or obj is None:
            return response
        entries = LogEntry.objects.filter(
            object_id=unquote(object_id), content_type=get_content_type_for_model(obj)
        ).select_related("user")
        merged = sorted(
            [*entries, *(_Step(step) for step in self.history_steps(obj))],
            key=lambda action: action.action_time,
        )
        paginator = Paginator(merged, 100)
        page = paginator.get_page(request.GET.get(PAGE_VAR))
        response.context_data.update(
            action_list=page,
            page_range=paginator.get_elided_page_range(page.number),
            pagination_required=paginator.count > paginator.per_page,
        )
        return response


class HistoryOrderMixin(StepsInHistoryMixin):
    """What the history adds to the order's admin (joined in werkplaats/admin.py)."""

    inlines = [OrderLogInline]

    def history_steps(self, order):
        return OrderLogEntry.objects.filter(order=order)


class HistoryRegistrationMixin(StepsInHistoryMixin):
    """What the history adds to the registration's admin: its own steps of the order."""

    def history_steps(self, registration):
        return OrderLogEntry.objects.filter(registration=registration)
