from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Max

from registrations.invoicing.documents import DocumentUnavailable, document_bytes, kinds
from registrations.invoicing.models import Invoice, InvoiceCounter


def numbering_problems():
    """Each series whose counter does not follow its invoices: the next number must be the
    last one issued plus one, with every number before it in use (no gap, no number twice)."""
    counters = dict(InvoiceCounter.objects.values_list("series", "last_number"))
    problems = []
    for row in Invoice.objects.values("series").annotate(last=Max("sequence"), count=Count("pk")):
        series, last, count = row["series"], row["last"], row["count"]
        if counters.get(series) != last:
            problems.append(
                f"reeks {series}: de teller staat op {counters.get(series, 'niets')}, de laatste "
                f"factuur heeft volgnummer {last}"
            )
        if count != last:
            problems.append(f"reeks {series}: {count} facturen voor volgnummers 1 tot {last}")
    return problems


class Command(BaseCommand):
    help = (
        "Controle na het terugzetten van een back-up: elk opgeslagen document (pdf en "
        "e-factuur) tegen de controlesom van het uitreiken, en per reeks of de factuurteller "
        "precies op het laatste uitgereikte nummer staat, zonder gat. Wijzigt niets; stopt met "
        "een foutcode als iets niet klopt."
    )

    def handle(self, *args, **options):
        problems, documents = [], 0
        for invoice in Invoice.objects.order_by("series", "sequence").iterator():
            for kind in kinds(invoice):
                try:
                    document_bytes(invoice, kind)
                except DocumentUnavailable as problem:
                    problems.append(str(problem))
                else:
                    documents += 1
        problems += numbering_problems()
        for problem in problems:
            self.stdout.write(problem)
        if problems:
            raise CommandError(f"De back-up klopt niet: {len(problems)} problemen (hierboven).")
        series = InvoiceCounter.objects.count()
        self.stdout.write(
            f"{documents} documenten kloppen met hun controlesom; de tellers van {series} "
            "reeksen sluiten aan op het laatste nummer."
        )
