from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from programme.models import Edition
from registrations.models import Registration, WaitingListOffer
from registrations.tasks import queue_offer_mails
from werkplaats.refusals import writing


class Command(BaseCommand):
    help = (
        "Laat verlopen wachtlijstaanbiedingen vervallen en biedt hun plaatsen (en elke andere "
        "vrije plaats) aan de volgende op de wachtlijst aan, per e-mail; mailt ook elk "
        "uitstaand aanbod waarvan de e-mail nog niet is verstuurd. Draai dit elke paar "
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
        # Editions with someone waiting: those with a lapsed offer, any whose free place was
        # not offered yet (a maximum raised in the shell), and any with an offer whose mail
        # did not go out (made in the shell, or refused by the mail server).
        editions = Edition.objects.filter(
            pk__in=Registration.objects.waiting().values("edition_id")
        ).order_by("pk")
        expired = offered = mailed = 0
        for edition_id in editions.values_list("pk", flat=True):
            what = f"De wachtlijst van werkplaats nr. {edition_id} is niet bijgewerkt"
            with writing(what), transaction.atomic():
                edition = Edition.objects.select_for_update().get(pk=edition_id)
                expiring = lapsed.filter(registration__edition=edition).count()
                made = WaitingListOffer.objects.offer_free_places(edition, at=now)
                queued = queue_offer_mails(edition)
            expired += expiring
            offered += len(made)
            # Offers made earlier whose mail goes out only now.
            caught_up = len({offer.pk for offer in queued} - {offer.pk for offer in made})
            mailed += caught_up
            if expiring or made or caught_up:
                self.stdout.write(
                    f"{edition}: {expiring} aanbieding(en) verlopen, {len(made)} nieuwe "
                    f"aangeboden, {caught_up} eerdere gemaild."
                )
        self.stdout.write(
            self.style.SUCCESS(
                f"{expired} aanbieding(en) verlopen, {offered} nieuwe aanbieding(en) verstuurd, "
                f"{mailed} eerdere aanbieding(en) alsnog gemaild."
            )
        )
