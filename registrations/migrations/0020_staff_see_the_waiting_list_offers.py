"""Medewerkers see every waiting-list offer and its state; nobody changes one in the admin."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def _permission(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(
        content_type__app_label="registrations", codename="view_waitinglistoffer"
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    staff.permissions.add(_permission(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    staff = Group.objects.filter(name="Medewerkers").first()
    if staff:
        staff.permissions.remove(_permission(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0019_waiting_list_offers"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
