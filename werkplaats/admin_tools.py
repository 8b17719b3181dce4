"""What every app's admin uses: the bulk-action loop, the mail report, the confirmation page,
read-only records, and pages written as functions in an app's admin_views.py.

Nobody's app: programme, registrations, invoicing, attendance and payments all import it.
"""

from dataclasses import dataclass, field
from functools import partial

from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.template.response import TemplateResponse

from .refusals import WRITE_REFUSED, is_write_refused, refusal_text, write_refused_text


def apply_to_each(
    modeladmin, request, rows, step, done, refusals=(ValidationError,), log=True, failed=None
):
    """The one "run, collect refusals, report" loop of the admin's bulk actions.

    `step(row)` does the work for one row and returns a short text for the log and the
    summary, or raises one of `refusals`: that row is skipped and reported with its reason,
    the others go on.

    A database that refuses to write (werkplaats.refusals.is_write_refused) stops the loop:
    the row's step rolled back in its own transaction, so nothing of it is kept, and the next
    rows would meet the same refusal. The row is reported as `failed(row)` says ("Factuur
    voor INS-00004 is niet gemaakt"; by default the row's name), with the rows not tried.
    """
    succeeded, skipped, stopped = [], [], False
    rows = list(rows)
    for position, row in enumerate(rows):
        try:
            text = step(row)
            succeeded.append(text)
            if log:
                modeladmin.log_change(request, row, text)
        except refusals as refusal:
            skipped.append(refusal_text(refusal))
        except DatabaseError as error:
            if not is_write_refused(error):
                raise
            stopped = True
            if len(succeeded) > position:
                # The step itself was kept; only its line in the admin's history was refused.
                modeladmin.message_user(
                    request,
                    f"{row}: gedaan, maar niet in de geschiedenis gezet: {WRITE_REFUSED}.",
                    messages.ERROR,
                )
            else:
                what = failed(row) if failed else f"{row} is niet bijgewerkt"
                modeladmin.message_user(request, write_refused_text(what), messages.ERROR)
            if untried := len(rows) - position - 1:
                modeladmin.message_user(
                    request, f"Niet geprobeerd: de andere {untried}.", messages.ERROR
                )
            break
    if succeeded:
        modeladmin.message_user(
            request, f"{done} ({len(succeeded)}): {'; '.join(succeeded)}", messages.SUCCESS
        )
    for reason in skipped:
        modeladmin.message_user(request, f"Overgeslagen: {reason}", messages.WARNING)
    if not succeeded and not skipped and not stopped:
        modeladmin.message_user(request, "Niets te doen voor deze selectie.", messages.INFO)
    return succeeded


def report_mail(modeladmin, request, queued, what):
    """Say honestly what became of the e-mail a step queued: sent, queued, or refused."""
    sent, waiting, failed = queued.outcome()
    if sent:
        modeladmin.message_user(request, f"{what}: {sent} verstuurd.", messages.SUCCESS)
    if waiting:
        modeladmin.message_user(
            request, f"{what}: {waiting} in de wachtrij, de worker verstuurt ze.", messages.INFO
        )
    if failed:
        modeladmin.message_user(
            request,
            f"{what}: {failed} niet verstuurd, de mailserver weigerde of reageerde niet. "
            "Probeer het later opnieuw met 'Bevestiging opnieuw versturen'.",
            messages.ERROR,
        )


@dataclass
class MailPreview:
    """What an action would mail, shown before anything is sent: to whom (one line each),
    which rows it skips and why, and ONE message rendered by the very function that sends
    it (an app's emails module, through werkplaats.mail.render_message)."""

    what: str
    recipients: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    message: object = None

    @property
    def count(self):
        return len(self.recipients)

    @property
    def attachment_names(self):
        return [attachment[0] for attachment in self.message.attachments] if self.message else []


def mail_preview(what, rows, recipient, message_for, refusals):
    """MailPreview of `rows`: `recipient(row)` names whom a row mails ("Naam <adres>"), or
    raises one of `refusals` with the reason the action would skip it; `message_for(row)`
    renders the first row's message as it will be sent."""
    preview = MailPreview(what)
    for row in rows:
        try:
            label = recipient(row)
            if preview.message is None:
                preview.message = message_for(row)
        except refusals as refusal:
            preview.skipped.append(refusal_text(refusal))
        else:
            preview.recipients.append(label)
    return preview


def confirm_page(
    modeladmin, request, queryset, action, title, text="", form=None, rows=None, mail=None
):
    """An intermediate page for an action: what will happen, to which rows, and a form.

    Posting it runs `action` again on the same selection with "apply" set. The selection is
    listed by the ModelAdmin's `action_confirmation_template` (as Django's own
    `delete_selected_confirmation_template`), by default each row by name. With `mail` (a
    MailPreview) it is the page every mailing action shows first: how many get which mail,
    who, who is skipped and why, and one message as it will be sent; nothing is sent until
    it is posted.
    """
    if mail is not None:
        template = "admin_tools/confirm_mail.html"
    else:
        template = getattr(modeladmin, "action_confirmation_template", None)
        template = template or "admin_tools/confirm.html"
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "text": text,
        "queryset": queryset,
        "rows": rows,
        "form": form,
        "mail": mail,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, template, context)


def admin_page(modeladmin, view):
    """`view(modeladmin, request, ...)` from an app's admin_views.py as a page of this admin,
    behind the admin's login (admin_site.admin_view), for get_urls."""
    return modeladmin.admin_site.admin_view(partial(view, modeladmin))


class ReadOnlyAdminMixin:
    """A record the site keeps (an issued invoice, a payment as the bank reported it, a
    retention record): shown to whoever may view it, added, changed or deleted by nobody."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
