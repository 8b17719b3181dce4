"""The case typed into the sign-up form so far moves into the answer to the edition's first
question, which every participant sees and changes on their personal page. (A case typed
from now on moves on the participant's first save: registrations.intake.models.)"""

import datetime

from django.db import migrations

DEFAULT_QUESTIONS = [
    (
        "Je opgave of casus",
        "Waar werk je aan in je wijk? Beschrijf bewoners niet herkenbaar: geen namen of adressen.",
    ),
    ("Je vraag aan de werkplaats", "Wat wil je na de drie dagen verder hebben?"),
]


def move(apps, schema_editor):
    Registration = apps.get_model("registrations", "Registration")
    Intake = apps.get_model("intake", "Intake")
    Question = apps.get_model("intake", "Question")
    Answer = apps.get_model("intake", "Answer")
    typed = Registration.objects.exclude(own_case="").order_by("pk")
    for edition_id in typed.values_list("edition_id", flat=True).distinct():
        intake, created = Intake.objects.get_or_create(edition_id=edition_id)
        if created:
            for position, (text, help_text) in enumerate(DEFAULT_QUESTIONS, start=1):
                Question.objects.create(
                    intake=intake, text=text, help_text=help_text, position=position
                )
    now = datetime.datetime.now(datetime.UTC)
    for registration in typed.iterator():
        first = (
            Question.objects.filter(intake__edition_id=registration.edition_id)
            .order_by("position", "pk")
            .first()
        )
        Answer.objects.get_or_create(
            registration_id=registration.pk,
            question=first,
            defaults={"text": registration.own_case.strip(), "updated_at": now},
        )
    typed.update(own_case="")


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0001_initial"),
        ("registrations", "0023_retention_erases_cases"),
    ]

    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
