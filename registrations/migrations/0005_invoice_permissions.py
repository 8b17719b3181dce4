from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE = {
    "invoice": [
        "view_invoice",
        "issue_invoice",
        "credit_invoice",
        "mark_paid",
        "send_invoice",
    ],
    "invoiceline": ["view_invoiceline"],
    "invoiceissuer": ["view_invoiceissuer", "add_invoiceissuer", "change_invoiceissuer"],
}
STAFF = {"invoice": ["view_invoice"], "invoiceline": ["view_invoiceline"]}


def _permissions(apps, wanted):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(
            content_type__app_label="registrations", content_type__model=model, codename=codename
        )
        for model, codenames in wanted.items()
        for codename in codenames
    ]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the
    # groups can hold them on a fresh database (as in 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    finance, _ = Group.objects.get_or_create(name="Financiën")
    finance.permissions.add(*_permissions(apps, FINANCE))
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    staff.permissions.add(*_permissions(apps, STAFF))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, wanted in [("Financiën", FINANCE), ("Medewerkers", STAFF)]:
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(*_permissions(apps, wanted))


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0004_invoice_triggers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
