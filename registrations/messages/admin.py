from django.contrib import admin
from django.db.models import Count
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from werkplaats import formats
from werkplaats.admin_tools import ReadOnlyAdminMixin, admin_page
from werkplaats.middleware import accepts_uploads

from . import admin_views
from .forms import MaterialForm, MessageForm
from .models import Message, Recipient


class RecipientInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Who got the message (or why not), on the message's page."""

    model = Recipient
    extra = 0
    fields = readonly_fields = ["registration", "status", "queued_at", "sent_at"]
    verbose_name_plural = "ontvangers"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("registration")


class MessageAdmin(admin.ModelAdmin):
    """Staff write a message here; its page "Voorbeeld, test en versturen" shows who gets it
    and one rendered mail, sends a test and then the message itself (admin_views.py). A sent
    message is kept as it went out: read-only, never deleted."""

    form = MessageForm
    list_display = ["subject", "edition", "kind", "group_label", "sent_at", "recipient_count"]
    list_filter = ["kind", "edition", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["subject"]
    list_select_related = ["edition"]
    inlines = [RecipientInline]
    fieldsets = [
        (None, {"fields": ["edition", "kind", "subject", "body", "group", "day"]}),
        (
            "Versturen",
            {"fields": ["send_link", "created_by", "created_at", "sent_at", "resent_from"]},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_recipients=Count("recipients"))

    def get_inlines(self, request, obj):
        # Who got it exists only once it is sent; a new message has no one yet.
        return self.inlines if obj is not None and obj.sent_at else []

    def get_readonly_fields(self, request, obj=None):
        fixed = ["send_link", "created_by", "created_at", "sent_at", "resent_from"]
        if obj is not None and (obj.sent_at or obj.kind == Message.Kind.MATERIAL):
            return [*fixed, "edition", "kind", "subject", "body", "group", "day"]
        return fixed

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("group", "confirmed")
        return initial

    def has_change_permission(self, request, obj=None):
        if obj is not None and (obj.sent_at or obj.kind == Message.Kind.MATERIAL):
            return False  # kept as it went out
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.sent_at:
            return False
        return super().has_delete_permission(request, obj)

    @admin.display(description="ontvangers", ordering="n_recipients")
    def recipient_count(self, message):
        return getattr(message, "n_recipients", 0)

    @admin.display(description="aan")
    def group_label(self, message):
        return message.group_label

    @admin.display(description="versturen")
    def send_link(self, message):
        if message.pk is None:
            return "Sla het bericht eerst op; daarna zie je wie het krijgt en een voorbeeld."
        url = reverse("admin:participant_messages_message_send", args=[message.pk])
        return format_html('<a href="{}">Voorbeeld, test en versturen</a>', url)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        if "_addanother" in request.POST or "_continue" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        # Saved: on to who gets it, the preview and the test.
        return redirect("admin:participant_messages_message_send", obj.pk)

    def get_urls(self):
        return [
            path(
                "<int:pk>/versturen/",
                admin_page(self, admin_views.send_page),
                name="participant_messages_message_send",
            ),
            *super().get_urls(),
        ]


class MaterialAdmin(admin.ModelAdmin):
    """Preparation material per edition: a PDF (checked by its content, kept in the
    database) or a link, with the day it is released to confirmed participants."""

    form = MaterialForm
    list_display = ["title", "edition", "kind", "release_on", "file_link", "announced"]
    list_filter = ["edition", "kind"]
    list_select_related = ["edition", "announcement"]
    search_fields = ["title"]
    readonly_fields = ["file_link", "announced"]

    def get_fields(self, request, obj=None):
        return ["edition", "title", "kind", "upload", "url", "release_on", "file_link", "announced"]

    @admin.display(description="bestand")
    def file_link(self, material):
        if not material.filename:
            return "–"
        url = reverse("admin:participant_messages_material_download", args=[material.pk])
        return format_html(
            '<a href="{}">{}</a> ({} kB)', url, material.filename, -(-material.size // 1024)
        )

    @admin.display(description="aangekondigd")
    def announced(self, material):
        message = material.announcement
        if message is None:
            return "nog niet"
        when = formats.moment(message.sent_at) if message.sent_at else "klaar"
        return format_html('<a href="{}">{}</a>', message.get_absolute_url(), when)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        refused = admin_views.refuse_too_large(self, request)
        if refused:
            return refused
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if form.pdf:
            obj.store(*form.pdf)

    def get_urls(self):
        urls = super().get_urls()
        for pattern in urls:
            if pattern.name in (
                "participant_messages_material_add",
                "participant_messages_material_change",
            ):
                accepts_uploads(pattern.callback)
        return [
            path(
                "<int:pk>/bestand/",
                admin_page(self, admin_views.material_download),
                name="participant_messages_material_download",
            ),
            *urls,
        ]


class MessagesEditionMixin:
    """What messages add to the edition admin: what to bring, when the practical information
    goes, and every message and piece of material of the edition (`fieldsets` holds the
    addition only; werkplaats/admin.py joins it)."""

    fieldsets = [
        (
            "Berichten en voorbereiding",
            {"fields": ["what_to_bring", "practical_information_days", "edition_messages"]},
        )
    ]

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), "edition_messages"]

    @admin.display(description="berichten")
    def edition_messages(self, edition):
        if edition.pk is None:
            return "–"
        messages = edition.participant_messages.annotate(n=Count("recipients")).order_by(
            "-created_at", "-pk"
        )
        rows = format_html_join(
            "",
            '<li><a href="{}">{}</a> ({}, {}): {}</li>',
            (
                (
                    m.get_absolute_url(),
                    m.subject,
                    m.get_kind_display(),
                    m.group_label,
                    f"verstuurd op {formats.moment(m.sent_at)} aan {m.n}"
                    if m.sent_at
                    else "nog niet verstuurd",
                )
                for m in messages
            ),
        )
        add = reverse("admin:participant_messages_message_add")
        materials = reverse("admin:participant_messages_material_changelist")
        return format_html(
            '<ul>{}<li><a href="{}?edition={}">Nieuw bericht aan deelnemers</a></li>'
            '<li><a href="{}?edition__id__exact={}">Voorbereidingsmateriaal ({})</a></li></ul>',
            rows,
            add,
            edition.pk,
            materials,
            edition.pk,
            edition.materials.count(),
        )


class RegistrationMessageInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Every message this participant got (or was stopped), on their registration."""

    model = Recipient
    extra = 0
    fields = readonly_fields = ["message_link", "status", "queued_at", "sent_at"]
    verbose_name = "bericht"
    verbose_name_plural = "berichten aan deze deelnemer"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("message").order_by("-queued_at")

    @admin.display(description="bericht")
    def message_link(self, recipient):
        message = recipient.message
        return format_html('<a href="{}">{}</a>', message.get_absolute_url(), message.subject)


class MessagesRegistrationMixin:
    """What messages add to the registration admin: the messages the participant got."""

    def get_inlines(self, request, obj):
        inlines = super().get_inlines(request, obj)
        return [*inlines, RegistrationMessageInline] if obj is not None else inlines
