from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from programme.models import Edition, amsterdam_date
from registrations.invoicing.models import InvoiceIssuer
from registrations.models import Registration

EXAMPLE_ISSUER = {
    "name": "Platform31 (VOORBEELD)",
    "street": "Voorbeeldstraat 31",
    "postcode": "1234 AB",
    "city": "Den Haag",
    "country": "NL",
    "kvk_number": "VOORBEELD",
    "vat_id": "NLVOORBEELDB01",
    "iban": "NL00VOORBEELD0000",
    "email": "facturen@example.org",
    "footer_text": "VOORBEELDGEGEVENS – deze factuur is alleen om het systeem uit te proberen.",
    "is_example": True,
}


class Command(BaseCommand):
    help = (
        "Vult de factuurafzender met duidelijk gemarkeerde voorbeeldgegevens en zet een "
        "voorbeeldinschrijving in de demo-editie, zodat je lokaal een factuur kunt maken. "
        "Alleen met DJANGO_DEBUG aan; bestaande echte gegevens blijven staan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    @transaction.atomic
    def handle(self, *args, dry_run=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Voorbeeldgegevens horen niet in productie: zet DJANGO_DEBUG=1 om ze te laden."
            )
        issuer = InvoiceIssuer.load()
        if issuer.missing_details():
            if not dry_run:
                for field, value in EXAMPLE_ISSUER.items():
                    setattr(issuer, field, value)
                issuer.save()
            self.stdout.write("Factuurafzender gevuld met VOORBEELD-gegevens.")
        else:
            self.stdout.write("Factuurafzender is al ingevuld; niets veranderd.")

        today = amsterdam_date(timezone.now())
        demo = Edition.objects.filter(is_demo=True, start_date__gte=today).first()
        if demo is None:
            self.stdout.write("Geen demo-editie: draai eerst `manage.py load_demo_edition`.")
            return
        if demo.registrations.active().exists():
            self.stdout.write("De demo-editie heeft al inschrijvingen; niets toegevoegd.")
            return
        if not dry_run:
            Registration.objects.register(
                demo,
                first_name="Voorbeeld",
                last_name="Deelnemer (demo)",
                email="deelnemer@example.org",
                phone="06 12345678",
                organisation="Gemeente Voorbeeldstad",
                job_title="Wijkregisseur",
                sector=Registration.Sector.GEMEENTE,
                role=Registration.Role.LEIDER,
                invoice_organisation="Gemeente Voorbeeldstad",
                invoice_attention="Crediteurenadministratie",
                invoice_street="Stadhuisplein 1",
                invoice_postcode="1234 AB",
                invoice_city="Voorbeeldstad",
                invoice_email="facturen@example.org",
                po_number="PO-VOORBEELD-1",
                # An example number: a Dutch buyer without one waits for finance (issue 23).
                kvk_number="12345678",
                terms_accepted_at=timezone.now(),
                privacy_accepted_at=timezone.now(),
            )
        self.stdout.write(
            self.style.SUCCESS(
                "Voorbeeldinschrijving toegevoegd. Maak de factuur in beheer: Inschrijvingen → "
                "kies de inschrijving → actie 'Factuur aanmaken'."
            )
        )
