"""Transmissions are finance's, as the invoices are: Financiën read them and decide about a
refused one (change); Medewerkers do not see them."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Financiën": ["view_transmission", "change_transmission"]}


def _permissions(apps, codenames):
    # Permissions are normally made after all migrations ran; make them now (see
    # registrations/migrations/0002_groups.py).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="transmission", codename__in=codenames
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("transmission", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
