"""The back office, assembled: every model of ours and the admin staff see for it.

Each app defines its own admin (programme's editions, sign-up's registrations and orders,
invoicing's invoices, ...) and, for a model of an app below it, a mixin with what it adds:
invoicing adds the invoices to a registration, attendance the check-in to an edition, sign-up
and invoicing an organisation's orders and invoices to the register. This
module, like urls.py, may import every app: it joins those pieces into one ModelAdmin per
model and registers it, here and nowhere else (tests/test_layout.py holds that). Django's
admin imports it as the admin module of the `werkplaats` app, listed last in INSTALLED_APPS.
"""

from django.contrib import admin

from programme import admin as programme_admin
from programme.models import Edition, PrivacyStatement
from registrations import admin as registrations_admin
from registrations.accesslog import admin as accesslog_admin
from registrations.accesslog.models import AccessLogEntry
from registrations.accreditation import admin as accreditation_admin
from registrations.accreditation.models import Entry, Register
from registrations.attendance import admin as attendance_admin
from registrations.attendance.models import Certificate
from registrations.coaching import admin as coaching_admin
from registrations.coaching.models import Coach, CoachSlot
from registrations.evaluation import admin as evaluation_admin
from registrations.evaluation.models import Questionnaire
from registrations.history import admin as history_admin
from registrations.intake import admin as intake_admin
from registrations.intake.models import Intake
from registrations.invoicing import admin as invoicing_admin
from registrations.invoicing.models import BulkJob, Invoice, InvoiceIssuer
from registrations.messages import admin as messages_admin
from registrations.messages.models import Material, Message
from registrations.models import Order, Registration, RetentionRecord, WaitingListOffer
from registrations.organisations import admin as organisations_admin
from registrations.organisations.models import Organisation
from registrations.payments import admin as payments_admin
from registrations.payments.models import (
    BankStatement,
    CostCentre,
    InvoiceHold,
    LedgerAccount,
    Payment,
    Reminder,
    ReminderSettings,
)
from registrations.privacy import admin as privacy_admin
from registrations.transmission import admin as transmission_admin
from registrations.transmission.models import Transmission


def joined(name, *admins):
    """The `name` lists (columns, filters, actions, fieldsets, inlines) of the app admin and
    then of each app's mixin, in that order: what staff see, app by app."""
    return [item for part in admins for item in getattr(part, name)]


@admin.register(Edition)
class EditionAdmin(
    invoicing_admin.InvoicingEditionMixin,
    messages_admin.MessagesEditionMixin,
    attendance_admin.AttendanceEditionMixin,
    registrations_admin.StatisticsEditionMixin,
    registrations_admin.PlacesEditionMixin,
    programme_admin.EditionAdmin,
):
    list_display = joined(
        "list_display", programme_admin.EditionAdmin, registrations_admin.PlacesEditionMixin
    )
    list_filter = joined(
        "list_filter", programme_admin.EditionAdmin, registrations_admin.PlacesEditionMixin
    )
    fieldsets = joined(
        "fieldsets",
        programme_admin.EditionAdmin,
        registrations_admin.PlacesEditionMixin,
        invoicing_admin.InvoicingEditionMixin,
        attendance_admin.AttendanceEditionMixin,
        messages_admin.MessagesEditionMixin,
        registrations_admin.StatisticsEditionMixin,
    )
    actions = joined(
        "actions", programme_admin.EditionAdmin, attendance_admin.AttendanceEditionMixin
    )


@admin.register(Registration)
class RegistrationAdmin(
    history_admin.HistoryRegistrationMixin,
    privacy_admin.PrivacyRegistrationMixin,
    accreditation_admin.AccreditationRegistrationMixin,
    messages_admin.MessagesRegistrationMixin,
    attendance_admin.AttendanceRegistrationMixin,
    invoicing_admin.InvoicingRegistrationMixin,
    registrations_admin.RegistrationAdmin,
):
    list_display = joined(
        "list_display",
        registrations_admin.RegistrationAdmin,
        invoicing_admin.InvoicingRegistrationMixin,
    )
    list_filter = joined(
        "list_filter",
        registrations_admin.RegistrationAdmin,
        invoicing_admin.InvoicingRegistrationMixin,
        attendance_admin.AttendanceRegistrationMixin,
        accreditation_admin.AccreditationRegistrationMixin,
    )
    actions = joined(
        "actions",
        registrations_admin.RegistrationAdmin,
        invoicing_admin.InvoicingRegistrationMixin,
        attendance_admin.AttendanceRegistrationMixin,
    )


@admin.register(Order)
class OrderAdmin(
    history_admin.HistoryOrderMixin,
    invoicing_admin.InvoicingOrderMixin,
    registrations_admin.OrderAdmin,
):
    list_display = joined(
        "list_display", registrations_admin.OrderAdmin, invoicing_admin.InvoicingOrderMixin
    )
    list_filter = joined(
        "list_filter", registrations_admin.OrderAdmin, invoicing_admin.InvoicingOrderMixin
    )
    inlines = joined(
        "inlines",
        registrations_admin.OrderAdmin,
        invoicing_admin.InvoicingOrderMixin,
        history_admin.HistoryOrderMixin,
    )
    fieldsets = joined(
        "fieldsets", registrations_admin.OrderAdmin, invoicing_admin.InvoicingOrderMixin
    )
    actions = joined("actions", registrations_admin.OrderAdmin, invoicing_admin.InvoicingOrderMixin)


@admin.register(Organisation)
class OrganisationAdmin(
    invoicing_admin.InvoicingOrganisationMixin,
    registrations_admin.OrderOrganisationMixin,
    organisations_admin.OrganisationAdmin,
):
    inlines = joined(
        "inlines",
        organisations_admin.OrganisationAdmin,
        registrations_admin.OrderOrganisationMixin,
    )
    fieldsets = joined(
        "fieldsets",
        organisations_admin.OrganisationAdmin,
        invoicing_admin.InvoicingOrganisationMixin,
    )


@admin.register(Invoice)
class InvoiceAdmin(
    transmission_admin.TransmissionInvoiceMixin,
    payments_admin.PaymentsInvoiceMixin,
    invoicing_admin.InvoiceAdmin,
):
    list_filter = joined(
        "list_filter", invoicing_admin.InvoiceAdmin, payments_admin.PaymentsInvoiceMixin
    )
    list_select_related = joined(
        "list_select_related", invoicing_admin.InvoiceAdmin, payments_admin.PaymentsInvoiceMixin
    )
    inlines = joined("inlines", invoicing_admin.InvoiceAdmin, payments_admin.PaymentsInvoiceMixin)
    actions = joined(
        "actions",
        invoicing_admin.InvoiceAdmin,
        payments_admin.PaymentsInvoiceMixin,
        transmission_admin.TransmissionInvoiceMixin,
    )


admin.site.register(PrivacyStatement, programme_admin.PrivacyStatementAdmin)
admin.site.register(RetentionRecord, registrations_admin.RetentionRecordAdmin)
admin.site.register(WaitingListOffer, registrations_admin.WaitingListOfferAdmin)
admin.site.register(InvoiceIssuer, invoicing_admin.InvoiceIssuerAdmin)
admin.site.register(BulkJob, invoicing_admin.BulkJobAdmin)
admin.site.register(Certificate, attendance_admin.CertificateAdmin)
admin.site.register(Message, messages_admin.MessageAdmin)
admin.site.register(Material, messages_admin.MaterialAdmin)
admin.site.register(BankStatement, payments_admin.BankStatementAdmin)
admin.site.register(Payment, payments_admin.PaymentAdmin)
admin.site.register(ReminderSettings, payments_admin.ReminderSettingsAdmin)
admin.site.register(Reminder, payments_admin.ReminderAdmin)
admin.site.register(InvoiceHold, payments_admin.InvoiceHoldAdmin)
admin.site.register(LedgerAccount, payments_admin.LedgerAccountAdmin)
admin.site.register(CostCentre, payments_admin.CostCentreAdmin)
admin.site.register(Intake, intake_admin.IntakeAdmin)
admin.site.register(Questionnaire, evaluation_admin.QuestionnaireAdmin)
admin.site.register(Transmission, transmission_admin.TransmissionAdmin)
admin.site.register(Coach, coaching_admin.CoachAdmin)
admin.site.register(CoachSlot, coaching_admin.CoachSlotAdmin)
admin.site.register(AccessLogEntry, accesslog_admin.AccessLogEntryAdmin)
admin.site.register(Register, accreditation_admin.RegisterAdmin)
admin.site.register(Entry, accreditation_admin.EntryAdmin)
