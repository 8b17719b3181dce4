from django.core.management.base import BaseCommand
from django.db import transaction

from registrations.invoicing import sending, tasks
from werkplaats.queue import waiting_arguments
from werkplaats.refusals import writing


class Command(BaseCommand):
    help = (
        "Zet de factuur van elke bestelling in de wachtrij waarvan de editie 'facturen "
        "versturen: op een datum' heeft en die datum is bereikt: bevestigde deelnemers zonder "
        "factuur, of een factuur die nog niet is gemaild (draai dit elke dag, bijvoorbeeld met "
        "cron). Ook bestellingen die eerder zijn tegengehouden en nu te factureren zijn. Twee "
        "keer draaien maakt en mailt niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        waiting = waiting_arguments(tasks.invoice_order)
        orders = [order for order in sending.due_orders() if order.pk not in waiting]
        for order in orders:
            verb = "zou in de wachtrij zetten" if dry_run else "in de wachtrij"
            self.stdout.write(f"{verb}: {order.reference} ({order.invoice_organisation})")
        if not dry_run:
            what = f"{len(orders)} bestelling(en) zijn niet in de wachtrij gezet"
            with writing(what), transaction.atomic():
                for order in orders:
                    tasks.queue_order_invoicing(order)
        verb = "te factureren" if dry_run else "in de wachtrij gezet"
        self.stdout.write(self.style.SUCCESS(f"{len(orders)} bestelling(en) {verb}."))
