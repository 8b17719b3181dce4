"""Medewerkers write and send messages to participants and keep the preparation material;
they see who got each message. Financiën do none of it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = [
    "add_message",
    "change_message",
    "delete_message",
    "view_message",
    "send_message",
    "view_recipient",
    "add_material",
    "change_material",
    "delete_material",
    "view_material",
]


def _permissions(apps):
    # Permissions are normally made after all migrations ran; make them now so the group can
    # hold them on a fresh database (as in registrations 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="participant_messages", codename__in=CODENAMES
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    staff.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    staff = apps.get_model("auth", "Group").objects.filter(name="Medewerkers").first()
    if staff:
        staff.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("participant_messages", "0001_initial"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
