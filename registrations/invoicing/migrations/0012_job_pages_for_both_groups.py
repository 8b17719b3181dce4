"""Both groups may open the job pages (invoicing.view_bulkjob); which jobs each sees follows
from the permission of the job's action (BulkJob.PERMISSIONS): Medewerkers their ZIPs,
Financiën every kind."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Medewerkers", "Financiën"]


def _permission(apps):
    # Permissions are normally made after all migrations ran; make them now so the groups can
    # hold this one on a fresh database (as in 0004_roles_follow_responsibility).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(
        content_type__app_label="invoicing", content_type__model="bulkjob", codename="view_bulkjob"
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permission = _permission(apps)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permission = _permission(apps)
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("invoicing", "0011_bulk_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
