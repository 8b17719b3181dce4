"""Medewerkers answer a person's request to see or erase their data: they hold the
participants' records. Finance does not (invoices stay untouched either way)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Medewerkers"
CODENAMES = ["give_access", "erase_person"]


def _permissions(apps):
    # Permissions are normally made after all migrations ran; make them now so the group can
    # hold them on a fresh database (as in registrations 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="privacy", codename__in=CODENAMES)


def grant(apps, schema_editor):
    permissions = list(_permissions(apps))
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    permissions = list(_permissions(apps))
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.remove(*permissions)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
