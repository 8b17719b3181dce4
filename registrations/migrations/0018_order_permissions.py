"""Orders in the back office: Medewerkers read and change them (who signed up, where the
invoice goes, before it is invoiced), Financiën read them (and change the invoice details
under registrations.change_billing, as before on the registration)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {"Medewerkers": ["view_order", "change_order"], "Financiën": ["view_order"]}


def _permissions(apps, codenames):
    # Permissions are normally made after all migrations ran; make them now (see 0002_groups).
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(
        content_type__app_label="registrations", codename__in=codenames
    )


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GRANTS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0017_orders_required"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
