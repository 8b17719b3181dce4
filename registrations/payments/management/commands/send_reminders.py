from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from registrations.payments import reminders
from werkplaats import formats
from werkplaats.refusals import refusal_text, writing


class Command(BaseCommand):
    help = (
        "Verstuurt de betalingsherinneringen die vandaag nodig zijn (draai dit elke dag, "
        "bijvoorbeeld met cron): de eerste en tweede herinnering, zoveel dagen na de "
        "vervaldatum als Financiën heeft ingesteld. Nooit voor betaalde, gecrediteerde of "
        "aangehouden facturen. Twee keer op een dag draaien verstuurt niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        due = reminders.due()
        sent = 0
        for invoice, level in due:
            label = f"{invoice.number} ({invoice.customer_organisation}, vervallen op {formats.day(invoice.due_date)})"
            if dry_run:
                self.stdout.write(f"zou versturen: {level.label} voor {label}")
                continue
            try:
                with writing(f"Herinnering voor {invoice.number} is niet verstuurd"):
                    reminders.send(invoice, level)
            except ValidationError as refusal:
                self.stdout.write(f"overgeslagen: {refusal_text(refusal)}")
                continue
            sent += 1
            self.stdout.write(f"{level.label} voor {label}")
        verb = "te versturen" if dry_run else "verstuurd"
        count = len(due) if dry_run else sent
        self.stdout.write(self.style.SUCCESS(f"{count} herinnering(en) {verb}."))
