"""The versions every worker checks its copy of a public page against (PageVersion): the one
row for the content, and a places version per edition."""

from django.db import migrations, models

import programme.models


def create_the_row(apps, schema_editor):
    PageVersion = apps.get_model("programme", "PageVersion")
    PageVersion.objects.get_or_create(pk=programme.models.PageVersion.ONE)


class Migration(migrations.Migration):
    dependencies = [
        ("programme", "0007_staff_keep_the_privacy_statement"),
    ]

    operations = [
        migrations.CreateModel(
            name="PageVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("content", models.BigIntegerField(default=programme.models.new_version)),
            ],
            options={
                "verbose_name": "paginaversie",
                "verbose_name_plural": "paginaversies",
            },
        ),
        migrations.AddField(
            model_name="edition",
            name="places_version",
            field=models.BigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_the_row, migrations.RunPython.noop),
    ]
