"""Messages' own admin pages: a message's preview, test and sending, and a material's PDF.
admin.py wires them in with get_urls."""

import logging

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django_tasks import TaskResultStatus

from werkplaats.queue import atomic_with

from . import emails, tasks
from .forms import max_bytes, too_large_text
from .models import Material, Message, MessageRefused, Recipient
from .views import pdf_response

logger = logging.getLogger(__name__)

VIEW = "participant_messages.view_message"
SEND = "participant_messages.send_message"
# The multipart envelope around the file: boundaries, headers, the other fields.
UPLOAD_OVERHEAD = 64 * 1024


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def send_page(model_admin, request, pk):
    """Who gets the message and one of them as they will get it; "Stuur een test naar
    mijzelf"; then "Versturen" (once), or for a sent message "Opnieuw versturen", which
    makes a new message to check and send."""
    _require(request, VIEW)
    message = get_object_or_404(Message.objects.select_related("edition"), pk=pk)
    if request.method == "POST":
        _require(request, SEND)
        action = request.POST.get("action")
        if action == "test":
            _send_test(model_admin, request, message)
        elif action == "send":
            _send(model_admin, request, message)
        elif action == "resend":
            try:
                copy = message.resend(by=request.user)
            except MessageRefused as refusal:
                model_admin.message_user(request, str(refusal), messages.ERROR)
            else:
                model_admin.message_user(
                    request,
                    "Een nieuw bericht met dezelfde tekst staat klaar. Kijk wie het krijgt en "
                    "verstuur het.",
                    messages.SUCCESS,
                )
                return redirect("admin:participant_messages_message_send", copy.pk)
        return redirect("admin:participant_messages_message_send", message.pk)

    people = list(message.audience().select_related("edition"))
    preview = people[0] if people else None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Bericht: {message.subject}",
        "opts": model_admin.opts,
        "message": message,
        "people": people,
        "newcomers": message.newcomers().count() if message.is_scheduled else None,
        "preview": preview,
        "mail": emails.message_mail(message, preview) if preview else None,
        "statuses": _statuses(message),
        "may_send": request.user.has_perm(SEND),
    }
    return TemplateResponse(request, "participant_messages/send.html", context)


def _statuses(message):
    counts = {status: 0 for status in Recipient.Status}
    for status in message.recipients.values_list("status", flat=True):
        counts[Recipient.Status(status)] += 1
    return [(status.label, count) for status, count in counts.items() if count]


def _send_test(model_admin, request, message):
    if not request.user.email:
        model_admin.message_user(
            request,
            "Je account heeft geen e-mailadres; vul het in bij je gebruiker.",
            messages.ERROR,
        )
        return
    if not message.audience().exists():
        model_admin.message_user(
            request, "Niemand in deze groep; er is geen voorbeeld om te sturen.", messages.ERROR
        )
        return
    result = tasks.send_test_message.enqueue(message.pk, request.user.pk)
    model_admin.message_user(
        request,
        f"Een test gaat naar {request.user.email}"
        + (" (in de wachtrij)." if result.status == TaskResultStatus.READY else "."),
        messages.SUCCESS,
    )


def _send(model_admin, request, message):
    try:
        with atomic_with(tasks.send_participant_message) as queue:
            created = message.send()
            for recipient in created:
                queue(recipient.pk)
    except MessageRefused as refusal:
        model_admin.message_user(request, str(refusal), messages.ERROR)
        return
    model_admin.log_change(request, message, f"Verstuurd aan {len(created)} deelnemers")
    logger.info("Message %s queued for %s recipients", message.pk, len(created))
    sent, waiting, failed = queue.outcome()
    text = f"Het bericht gaat naar {len(created)} deelnemers"
    if waiting:
        text += f"; {waiting} in de wachtrij, de worker verstuurt ze"
    model_admin.message_user(request, f"{text}.", messages.SUCCESS)
    if failed:
        model_admin.message_user(
            request,
            f"{failed} niet verstuurd: de mailserver weigerde of reageerde niet. Je ziet ze "
            "hieronder als mislukt.",
            messages.ERROR,
        )


def refuse_too_large(model_admin, request):
    """An upload far over the limit is refused from its length, before Django reads the
    body to a temporary file; nothing is stored."""
    if request.method != "POST":
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= max_bytes() + UPLOAD_OVERHEAD:
        return None
    model_admin.message_user(request, too_large_text(), messages.ERROR)
    return redirect(request.get_full_path())


def material_download(model_admin, request, pk):
    _require(request, "participant_messages.view_material")
    material = get_object_or_404(Material, pk=pk, kind=Material.Kind.FILE)
    return pdf_response(material)
