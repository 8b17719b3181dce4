from django.core.management.base import BaseCommand, CommandError

from registrations.invoicing.documents import DocumentUnavailable, pdf_bytes, restore_pdf
from registrations.invoicing.models import Invoice, InvoiceRefused


class Command(BaseCommand):
    help = (
        "Controleert de opgeslagen pdf van elke factuur en creditfactuur tegen de controlesom "
        "van het uitreiken, en meldt elke pdf die ontbreekt of niet klopt. Zonder --restore "
        "wordt niets gewijzigd. Met --restore wordt zo'n pdf opnieuw gemaakt uit de factuur "
        "en alleen opgeslagen als hij precies dezelfde bytes heeft als het origineel. Stopt "
        "met een foutcode zolang er een pdf ontbreekt of niet klopt."
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
            try:
                pdf_bytes(invoice)
            except DocumentUnavailable as problem:
                if restore and self.restore_invoice(invoice):
                    restored += 1
                else:
                    if not restore:
                        self.stdout.write(str(problem))
                    unresolved.append(invoice.number)
        if unresolved:
            advice = (
                "haal ze uit de back-up"
                if restore
                else "draai opnieuw met --restore om te herstellen wat kan"
            )
            raise CommandError(
                f"{len(unresolved)} van {checked} pdf's ontbreken of kloppen niet "
                f"({', '.join(unresolved)}): {advice}."
            )
        self.stdout.write(f"{checked} pdf's gecontroleerd, {restored} hersteld; alles klopt.")

    def restore_invoice(self, invoice):
        """Put the PDF back when a new render has the SHA-256 of issue; say what happened."""
        try:
            restore_pdf(invoice)
        except InvoiceRefused as refusal:
            self.stdout.write(str(refusal))
            return False
        self.stdout.write(f"De pdf van {invoice.number} is hersteld (controlesom klopt).")
        return True
