"""Medewerkers may read the access log: they answer for the participants' personal data and
handle a person's request to see or erase it. Nobody may change it (there is no such
permission); superusers read it as they read everything."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = ["Medewerkers"]


def _view_entry(apps):
    # Permissions are normally made after all migrations ran; make them now so the groups can
    # hold them on a fresh database (as in registrations 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.get(
        content_type__app_label="accesslog",
        content_type__model="accesslogentry",
        codename="view_accesslogentry",
    )


def grant(apps, schema_editor):
    permission = _view_entry(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    permission = _view_entry(apps)
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("accesslog", "0001_access_log"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
