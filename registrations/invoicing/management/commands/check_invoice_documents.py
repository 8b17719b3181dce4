from django.core.management.base import BaseCommand, CommandError

from registrations.invoicing.documents import DocumentUnavailable, document_bytes, kinds, restore
from registrations.invoicing.models import Invoice, InvoiceDocument, InvoiceRefused


class Command(BaseCommand):
    help = (
        "Controleert de opgeslagen pdf (en e-factuur) van elke factuur en creditfactuur tegen "
        "de controlesom van het uitreiken, en meldt elk document dat ontbreekt of niet klopt. "
        "Zonder --restore wordt niets gewijzigd. Met --restore wordt zo'n document opnieuw "
        "gemaakt uit de factuur en alleen opgeslagen als het precies dezelfde bytes heeft als "
        "het origineel. Stopt met een foutcode zolang er een document ontbreekt of niet klopt."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--restore",
            action="store_true",
            help="Herstel wat kan worden hersteld (anders alleen melden).",
        )

    def handle(self, *args, restore=False, **options):
        checked, restored, unresolved = 0, 0, []
        for invoice in Invoice.objects.order_by("series", "sequence").iterator():
            checked += 1
            for kind in kinds(invoice):
                try:
                    document_bytes(invoice, kind)
                except DocumentUnavailable as problem:
                    if restore and self.restore_document(invoice, kind):
                        restored += 1
                    else:
                        if not restore:
                            self.stdout.write(str(problem))
                        unresolved.append(f"{invoice.number} ({kind})")
        if unresolved:
            advice = (
                "haal ze uit de back-up"
                if restore
                else "draai opnieuw met --restore om te herstellen wat kan"
            )
            raise CommandError(
                f"{len(unresolved)} van {checked} facturen hebben een document dat ontbreekt of "
                f"niet klopt ({', '.join(unresolved)}): {advice}."
            )
        self.stdout.write(
            f"{checked} facturen gecontroleerd (pdf en e-factuur), {restored} hersteld; "
            "alles klopt."
        )

    def restore_document(self, invoice, kind):
        """Put a document back when a new one has the SHA-256 of issue; say what happened."""
        try:
            restore(invoice, kind)
        except InvoiceRefused as refusal:
            self.stdout.write(str(refusal))
            return False
        label = InvoiceDocument.Kind(kind).label
        self.stdout.write(f"De {label} van {invoice.number} is hersteld (controlesom klopt).")
        return True
