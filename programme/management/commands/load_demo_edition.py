import math

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from programme import seed
from programme.models import Edition, amsterdam_date


class Command(BaseCommand):
    help = (
        "Voegt een duidelijk gemarkeerde demo-editie toe, minstens een jaar in de toekomst, "
        "zodat je de open inschrijving kunt uitproberen. Alleen met DJANGO_DEBUG aan."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    @transaction.atomic
    def handle(self, *args, dry_run=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "Demo-gegevens horen niet in productie: zet DJANGO_DEBUG=1 om ze te laden."
            )
        today = amsterdam_date(timezone.now())
        existing = Edition.objects.filter(is_demo=True, start_date__gte=today).first()
        if existing:
            self.stdout.write(f"Demo-editie bestaat al: {existing.get_absolute_url()}")
            return
        source = Edition.objects.filter(slug=seed.SLUG_2022).first()
        if source is None:
            raise CommandError("Laad eerst de editie 2022 met `manage.py load_seed`.")
        weeks = math.ceil(((today - source.start_date).days + 365) / 7)
        if dry_run:
            self.stdout.write(f"Dry run: demo-editie {weeks} weken na 2022.")
            return
        demo = source.duplicate(weeks=weeks)
        demo.title = f"DEMO – {source.title}"
        demo.is_demo = True
        demo.is_published = True
        demo.capacity = 20
        demo.terms = seed.DEMO_TERMS
        demo.slug = Edition._free_slug(f"demo-{demo.start_date.year}")
        demo.save()
        self.stdout.write(self.style.SUCCESS(f"Demo-editie toegevoegd: {demo.get_absolute_url()}"))
