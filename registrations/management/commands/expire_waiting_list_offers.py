from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from programme.models import Edition
from registrations.models import Registration, WaitingListOffer


class Command(BaseCommand):
    help = (
        "Laat verlopen wachtlijstaanbiedingen vervallen en biedt hun plaatsen (en elke andere "
        "vrije plaats) aan de volgende op de wachtlijst aan, per e-mail. Draai dit elke paar "
        "minuten (cron); twee keer draaien doet niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        now = timezone.now()
        lapsed = WaitingListOffer.objects.lapsed(now)
        if dry_run:
            self.stdout.write(f"Dry run: {lapsed.count()} aanbieding(en) verlopen.")
            return
        # Editions with someone waiting: those with a lapsed offer, and any whose free place
        # was not offered yet (say a maximum raised with a queryset update).
        editions = Edition.objects.filter(
            pk__in=Registration.objects.waiting().values("edition_id")
        ).order_by("pk")
        expired = offered = 0
        for edition_id in editions.values_list("pk", flat=True):
            with transaction.atomic():
                edition = Edition.objects.select_for_update().get(pk=edition_id)
                expiring = lapsed.filter(registration__edition=edition).count()
                made = WaitingListOffer.objects.offer_free_places(edition, at=now)
            expired += expiring
            offered += len(made)
            if expiring or made:
                self.stdout.write(
                    f"{edition}: {expiring} aanbieding(en) verlopen, {len(made)} nieuwe aangeboden."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"{expired} aanbieding(en) verlopen, {offered} nieuwe aanbieding(en) verstuurd."
            )
        )
