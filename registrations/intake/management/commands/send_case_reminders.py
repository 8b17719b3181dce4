from django.core.management.base import BaseCommand

from registrations.intake import reminders
from werkplaats.refusals import writing


class Command(BaseCommand):
    help = (
        "Stuurt per editie één herinnering aan bevestigde deelnemers die hun casus nog niet "
        "hebben ingevuld, vanaf het ingestelde aantal dagen voor de deadline (draai dit elke "
        "dag, bijvoorbeeld met cron). Twee keer draaien stuurt niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        total = 0
        for intake in reminders.intakes_due():
            edition = intake.edition
            if dry_run:
                count = reminders.addressees(intake).count()
                self.stdout.write(f"Dry run: {edition}: herinnering aan {count} deelnemer(s).")
                continue
            with writing(f"{edition}: de herinnering voor de casus is niet verstuurd"):
                count = reminders.send(intake)
            if count is None:
                continue
            total += count
            self.stdout.write(f"{edition}: herinnering aan {count} deelnemer(s).")
        if not dry_run:
            self.stdout.write(self.style.SUCCESS(f"{total} herinnering(en) in de wachtrij."))
