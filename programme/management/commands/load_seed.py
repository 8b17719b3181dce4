from django.core.management.base import BaseCommand
from django.db import transaction

from programme import seed
from programme.models import Day, Edition


class Command(BaseCommand):
    help = (
        "Laadt de editie 2022 precies zoals de organisator die publiceerde. "
        "Idempotent: een bestaande editie blijft ongemoeid, tenzij --reset."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Zet een bestaande editie 2022 terug naar de gepubliceerde tekst.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    @transaction.atomic
    def handle(self, *args, reset=False, dry_run=False, **options):
        edition = Edition.objects.filter(slug=seed.SLUG_2022).first()
        if edition and not reset:
            self.stdout.write(f"Editie 2022 bestaat al ({edition.slug}); niets gewijzigd.")
            return
        if dry_run:
            self.stdout.write("Dry run: editie 2022 zou worden geladen.")
            return
        edition, created = Edition.objects.update_or_create(
            slug=seed.SLUG_2022, defaults=seed.EDITION_2022
        )
        edition.sections.all().delete()
        edition.contacts.all().delete()
        edition.sessions.all().delete()
        edition.days.all().delete()
        for order, (heading, body) in enumerate(seed.SECTIONS_2022, start=1):
            edition.sections.create(order=order, heading=heading, body=body)
        for order, (name, topic, phone, practical) in enumerate(seed.CONTACTS_2022, start=1):
            edition.contacts.create(
                order=order, name=name, topic=topic, phone=phone, is_practical_contact=practical
            )
        Day.objects.bulk_create(Day(edition=edition, date=date) for date in seed.DAYS_2022)
        for order, (kind, title, description) in enumerate(seed.SESSIONS_2022, start=1):
            edition.sessions.create(order=order, kind=kind, title=title, description=description)
        verb = "geladen" if created else "teruggezet"
        self.stdout.write(self.style.SUCCESS(f"Editie 2022 {verb}: {edition.get_absolute_url()}"))
