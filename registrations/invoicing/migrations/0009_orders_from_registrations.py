"""Existing data moves forward: every registration becomes an order of one (its participant
ordered it, with the invoice details the registration held), every invoice belongs to that
order and its lines to that participant. A data migration on its own: PostgreSQL refuses
schema changes in the transaction that updated rows with deferred constraint checks."""

from django.db import migrations

INVOICE_DETAIL_FIELDS = [
    "invoice_organisation",
    "invoice_attention",
    "invoice_street",
    "invoice_postcode",
    "invoice_city",
    "invoice_country",
    "invoice_email",
    "po_number",
    "vat_id",
    "kvk_number",
    "oin",
    "peppol_id",
]
COPIED = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "organisation",
    *INVOICE_DETAIL_FIELDS,
    "submission_key",
    "terms_accepted_at",
    "privacy_accepted_at",
    "created_at",
    "anonymised_at",
]


def orders_from_registrations(apps, schema_editor):
    Registration = apps.get_model("registrations", "Registration")
    Order = apps.get_model("registrations", "Order")
    Invoice = apps.get_model("invoicing", "Invoice")
    InvoiceLine = apps.get_model("invoicing", "InvoiceLine")
    for registration in Registration.objects.filter(order__isnull=True).order_by("pk"):
        order = Order.objects.create(
            edition_id=registration.edition_id,
            **{name: getattr(registration, name) for name in COPIED},
        )
        Registration.objects.filter(pk=registration.pk).update(order=order)
        Invoice.objects.filter(registration_id=registration.pk).update(order=order)
        InvoiceLine.objects.filter(invoice__registration_id=registration.pk).update(
            registration_id=registration.pk
        )


def registrations_from_orders(apps, schema_editor):
    Registration = apps.get_model("registrations", "Registration")
    Invoice = apps.get_model("invoicing", "Invoice")
    for registration in Registration.objects.select_related("order"):
        order = registration.order
        Registration.objects.filter(pk=registration.pk).update(
            **{name: getattr(order, name) for name in COPIED if name in INVOICE_DETAIL_FIELDS},
            submission_key=order.submission_key,
            terms_accepted_at=order.terms_accepted_at or order.created_at,
            privacy_accepted_at=order.privacy_accepted_at or order.created_at,
        )
    for invoice in Invoice.objects.all():
        line = invoice.lines.exclude(registration_id=None).order_by("position").first()
        Invoice.objects.filter(pk=invoice.pk).update(registration_id=line.registration_id)


class Migration(migrations.Migration):
    dependencies = [("invoicing", "0008_invoice_order_and_line_participant")]

    operations = [migrations.RunPython(orders_from_registrations, registrations_from_orders)]
