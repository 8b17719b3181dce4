"""The access log in the admin, read-only; and the bulk actions of every list recorded in it.

werkplaats/admin.py registers the log; the admin site (werkplaats/admin_site.py) gives every
ModelAdmin the recording of its actions (RecordedActionsMixin).
"""

from django.contrib import admin
from django.contrib.admin.utils import model_format_dict
from django.template.response import TemplateResponse

from werkplaats import formats
from werkplaats.admin_tools import ReadOnlyAdminMixin

from .changes import log_change
from .log import Kind, record


class AccessLogEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["when", "username", "kind", "what", "reference", "count", "address"]
    list_filter = ["kind", "at", "edition", "username"]
    search_fields = ["username", "what", "reference", "address"]
    date_hierarchy = "at"
    list_select_related = ["edition"]
    fields = ["when", "username", "kind", "what", "edition", "reference", "count", "address"]
    readonly_fields = fields
    # Not even through an action: there is nothing to change.
    actions = None

    @admin.display(description="wanneer", ordering="at")
    def when(self, entry):
        return formats.moment(entry.at)


class RecordedActionsMixin:
    """Every action of a changelist, recorded in the access log with its name and the
    number of selected rows, whichever app defined it (Django's own delete too), and in the
    admin history of each row it was run on."""

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {
            name: (self._recorded(func, name, description), name, description)
            for name, (func, name, description) in actions.items()
        }

    @staticmethod
    def _recorded(func, name, description):
        def action(model_admin, request, queryset):
            opts = model_admin.opts
            # As the action menu shows it ("%(verbose_name_plural)s" filled in).
            label = str(description) % model_format_dict(opts)
            # The rows as they were chosen: the action may change what the list shows.
            rows = list(queryset.all())
            record(
                Kind.BULK_ACTION,
                f"Actie ‘{label}’ op {opts.verbose_name_plural}",
                request=request,
                count=len(rows),
                reference=f"{opts.app_label}.{opts.model_name}:{name}",
            )
            response = func(model_admin, request, queryset)
            # A page that asks for more (a date, a confirmation) has done nothing yet; a
            # deletion is in the history by Django's own hand.
            if name != "delete_selected" and not isinstance(response, TemplateResponse):
                log_change(rows, f"Actie ‘{label}’", user=request.user)
            return response

        # Django's confirmation pages (delete) read these from the action they call.
        action.__name__ = getattr(func, "__name__", name)
        action.__wrapped__ = func
        for attribute in ("allowed_permissions", "short_description"):
            if hasattr(func, attribute):
                setattr(action, attribute, getattr(func, attribute))
        return action
