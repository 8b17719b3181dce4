from django.core.management.base import BaseCommand, CommandError

from registrations.invoicing import einvoice
from registrations.invoicing.documents import DocumentUnavailable, ubl_bytes
from registrations.invoicing.models import Invoice


class Command(BaseCommand):
    help = (
        "Controleert elke opgeslagen e-factuur met de officiële regels (SI-UBL 2.0 en EN 16931) "
        "uit EINVOICE_RULES_DIR of --rules-dir, en meldt per factuur het aantal fatale fouten "
        "en waarschuwingen. Wijzigt niets. Stopt met een foutcode als een e-factuur een fatale "
        "fout heeft, ontbreekt of niet klopt met de controlesom."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rules-dir",
            help="Map met si-ubl-2.0.xsl en EN16931-UBL-validation.xslt (anders "
            "EINVOICE_RULES_DIR).",
        )

    def handle(self, *args, rules_dir=None, **options):
        directory = rules_dir or einvoice.rules_dir()
        if not directory:
            raise CommandError("Geen regels: stel EINVOICE_RULES_DIR in of geef --rules-dir.")
        checked, failed = 0, []
        invoices = Invoice.objects.exclude(ubl_sha256="").select_related("credited_invoice")
        for invoice in invoices.order_by("series", "sequence").iterator():
            checked += 1
            try:
                found = einvoice.findings(ubl_bytes(invoice), directory)
            except DocumentUnavailable as problem:
                self.stdout.write(str(problem))
                failed.append(invoice.number)
                continue
            fatal = sorted({f.rule for f in found if f.flag == "fatal"})
            per_set = ", ".join(
                f"{name}: {n['fatal']} fataal, {n['warning']} waarschuwing(en)"
                for name, n in einvoice.counts(found).items()
            )
            verdict = f"AFGEKEURD ({', '.join(fatal)})" if fatal else "in orde"
            self.stdout.write(f"{invoice.number}: {verdict}; {per_set}")
            if fatal:
                failed.append(invoice.number)
        if failed:
            raise CommandError(
                f"{len(failed)} van {checked} e-facturen voldoen niet of ontbreken: "
                f"{', '.join(failed)}."
            )
        self.stdout.write(f"{checked} e-facturen gecontroleerd; alle voldoen aan de regels.")
