"""The Coaches group (a coach sees their own schedule with each person's case, nothing else)
and what Medewerkers may do with cases and coach conversations."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MEDEWERKERS = {
    "intake": {"intake": "all", "question": "all", "answer": ["view"]},
    "coaching": {"coach": "all", "coachslot": "all"},
}


def create_groups(apps, schema_editor):
    # Permissions are normally made after all migrations ran; make them now so the groups
    # can hold them on a fresh database.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    staff, _ = Group.objects.get_or_create(name="Medewerkers")
    for app_label, models in MEDEWERKERS.items():
        for model, actions in models.items():
            found = Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{a}_{model}" for a in ("add", "change", "delete", "view")],
            )
            if actions != "all":
                found = found.filter(codename__in=[f"{a}_{model}" for a in actions])
            staff.permissions.add(*found)
    coaches, _ = Group.objects.get_or_create(name="Coaches")
    coaches.permissions.add(
        Permission.objects.get(content_type__app_label="coaching", codename="view_own_schedule")
    )


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Coaches").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("coaching", "0001_initial"),
        ("intake", "0001_initial"),
        ("registrations", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
