from django.core.management.base import BaseCommand
from django.utils import timezone

from registrations.transmission import accesspoint, tasks, transmitting
from registrations.transmission.models import Transmission


class Command(BaseCommand):
    help = (
        "E-facturen via Peppol (draai dit elke minuut, bijvoorbeeld met cron): haalt de "
        "meldingen van het accesspoint op (afgeleverd, geaccepteerd, afgewezen) en zet een "
        "poging in de wachtrij voor elke verzending waarvan de volgende poging aan de beurt is. "
        "Twee keer draaien doet niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        if dry_run:
            due = Transmission.objects.due(now).count()
            stuck = Transmission.objects.worklist(now).count()
            self.stdout.write(f"Aan de beurt: {due}; vraagt aandacht: {stuck}.")
            return
        if not accesspoint.configured():
            self.stdout.write("Geen accesspoint ingesteld (PEPPOL_API_KEY): niets te doen.")
            return
        try:
            read, changed = transmitting.poll()
        except accesspoint.Retryable as error:
            self.stderr.write(f"Meldingen niet opgehaald: {error}. De volgende ronde opnieuw.")
        else:
            self.stdout.write(f"Meldingen van het accesspoint: {read}, verwerkt: {changed}.")
        self.stdout.write(f"Pogingen in de wachtrij gezet: {tasks.queue_due()}.")
