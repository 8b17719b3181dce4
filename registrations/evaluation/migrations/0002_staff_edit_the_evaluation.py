"""Medewerkers edit each edition's evaluation (its questions) and read its results."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODELS = ["questionnaire", "question"]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the group
    # can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    staff.permissions.add(
        *Permission.objects.filter(content_type__app_label="evaluation", content_type__model__in=MODELS)
    )


def revoke(apps, schema_editor):
    staff = apps.get_model("auth", "Group").objects.filter(name="Medewerkers").first()
    if staff:
        staff.permissions.remove(
            *staff.permissions.filter(content_type__app_label="evaluation")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
