from django.core.management.base import BaseCommand

from registrations.evaluation import sending
from registrations.evaluation.models import Invitation


class Command(BaseCommand):
    help = (
        "Stuurt na de laatste dag van een editie de evaluatie aan iedere deelnemer die op "
        "minstens één dag aanwezig was, en één herinnering aan wie na het ingestelde aantal "
        "dagen nog niet heeft geantwoord (draai dit elke dag, bijvoorbeeld met cron). Twee keer "
        "draaien stuurt niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        invited = 0
        for edition in sending.editions_open():
            if dry_run:
                count = sending.to_invite(edition).count()
                self.stdout.write(f"Dry run: {edition}: evaluatie aan {count} deelnemer(s).")
                continue
            count = sending.invite(edition)
            invited += count
            if count:
                self.stdout.write(f"{edition}: evaluatie aan {count} deelnemer(s).")
        if dry_run:
            count = len(Invitation.objects.to_remind())
            self.stdout.write(f"Dry run: herinnering aan {count} deelnemer(s).")
            return
        reminded = sending.remind()
        self.stdout.write(
            self.style.SUCCESS(
                f"{invited} uitnodiging(en) en {reminded} herinnering(en) in de wachtrij."
            )
        )
