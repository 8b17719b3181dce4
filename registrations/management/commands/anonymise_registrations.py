import datetime

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from programme.models import amsterdam_date
from registrations.models import Registration

# Personal details nobody needs once the werkplaats is over. Invoices keep their own
# frozen copy of the customer's details, so the invoice address can go as well.
ERASED = {
    "first_name": "Geanonimiseerd",
    "last_name": "",
    "phone": "",
    "job_title": "",
    "own_case": "",
    "dietary_needs": "",
    "accessibility_needs": "",
    "invoice_attention": "",
    "invoice_street": "",
    "invoice_postcode": "",
    "invoice_email": "geanonimiseerd@invalid",
    "vat_id": "",
}


class Command(BaseCommand):
    help = (
        "Anonimiseert inschrijvingen van edities die meer dan N maanden geleden eindigden. "
        "Organisatie, sector, rol en status blijven voor statistiek; facturen houden hun "
        "eigen kopie."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--months", type=int, default=12, help="Bewaartermijn in maanden (standaard 12)."
        )
        parser.add_argument("--dry-run", action="store_true", help="Alleen tellen.")

    def handle(self, *args, months, dry_run=False, **options):
        today = amsterdam_date(timezone.now())
        # Whole months back, approximated as 30 days: a retention period, not a calendar.
        cutoff = today - datetime.timedelta(days=30 * months)
        queryset = Registration.objects.filter(
            edition__end_date__lt=cutoff, anonymised_at__isnull=True
        )
        count = queryset.count()
        if dry_run:
            self.stdout.write(
                f"Dry run: {count} inschrijving(en) van edities die eindigden voor "
                f"{cutoff:%d-%m-%Y} zouden worden geanonimiseerd."
            )
            return
        now = timezone.now()
        with transaction.atomic():
            for registration in queryset.select_for_update():
                for field, value in ERASED.items():
                    setattr(registration, field, value)
                # Unique per edition and recognisable as erased, never a real address.
                registration.email = f"geanonimiseerd-{registration.pk}@invalid"
                registration.anonymised_at = now
                registration.save()
        self.stdout.write(self.style.SUCCESS(f"{count} inschrijving(en) geanonimiseerd."))
