"""Roles follow responsibility: the money fields belong to Financiën.

Financiën may set an edition's price and VAT (programme.change_edition_price) and correct a
registration's invoice details and agreed price (registrations.change_billing). Medewerkers
keep content, programme and participants. On a fresh database registrations 0002_groups gave
them every permission of the edition and registration models, these new ones included: they
are taken away here.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

FINANCE = [
    ("programme", "edition", "change_edition_price"),
    ("registrations", "registration", "change_billing"),
]


def _permissions(apps):
    # Permissions are normally made after all migrations ran; make them now so the group can
    # hold them on a fresh database (as in registrations 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.get(
            content_type__app_label=app, content_type__model=model, codename=codename
        )
        for app, model, codename in FINANCE
    ]


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    finance, _ = Group.objects.get_or_create(name="Financiën")
    finance.permissions.add(*_permissions(apps))
    staff = Group.objects.filter(name="Medewerkers").first()
    if staff:
        staff.permissions.remove(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    finance = Group.objects.filter(name="Financiën").first()
    if finance:
        finance.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0003_documents_guarded"),
        ("programme", "0002_edition_price_by_finance"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
