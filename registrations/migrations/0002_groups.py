from django.contrib.auth.management import create_permissions
from django.db import migrations

MEDEWERKERS = {
    "programme": ["edition", "section", "contact", "day", "session"],
    "registrations": ["registration"],
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the
    # groups can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    for app_label, models in MEDEWERKERS.items():
        for model in models:
            staff.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, content_type__model=model
                )
            )

    finance, _ = Group.objects.get_or_create(name="Financiën")
    finance.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["programme", "registrations"],
            content_type__model__in=["edition", "registration"],
            codename__startswith="view_",
        )
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["Medewerkers", "Financiën"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registrations", "0001_initial"),
        ("programme", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
