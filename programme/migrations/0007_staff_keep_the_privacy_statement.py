"""Medewerkers keep the privacy statement: they view, add (once) and change it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CODENAMES = ["view_privacystatement", "add_privacystatement", "change_privacystatement"]


def _permissions(apps):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="programme", codename__in=CODENAMES)


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    staff.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    staff = Group.objects.filter(name="Medewerkers").first()
    if staff:
        staff.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0006_privacy_statement_and_venue_postcode"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
