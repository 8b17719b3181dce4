"""The history on the order's admin page: read-only, newest first, dates the Dutch way."""

from django.contrib import admin

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


class HistoryOrderMixin:
    """What the history adds to the order's admin (joined in werkplaats/admin.py)."""

    inlines = [OrderLogInline]
