"""Medewerkers keep the registers of an edition and the participants' registration numbers
(and tick the final assignment); finance has no part in it."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MEDEWERKERS = ["register", "entry"]


def _permissions(apps):
    # Permissions are normally made after all migrations ran; make them now so the group
    # can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    return apps.get_model("auth", "Permission").objects.filter(
        content_type__app_label="accreditation", content_type__model__in=MEDEWERKERS
    )


def grant(apps, schema_editor):
    staff, _ = apps.get_model("auth", "Group").objects.get_or_create(name="Medewerkers")
    staff.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    for group in apps.get_model("auth", "Group").objects.filter(name="Medewerkers"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accreditation", "0001_initial"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
