from django.core.management.base import BaseCommand

from programme.models import Edition
from werkplaats.queue import atomic_with
from werkplaats.refusals import writing

from ...models import Material, Message, today
from ...tasks import send_participant_message


class Command(BaseCommand):
    help = (
        "Announce released preparation material and send the practical information when it "
        "is due, to every confirmed participant who has not had it (also someone confirmed "
        "later). Run daily; running it twice sends nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count; send nothing.")

    def handle(self, *args, dry_run=False, **options):
        on = today()
        editions = Edition.objects.filter(
            end_date__gte=on, materials__announcement__isnull=True, materials__release_on__lte=on
        ).distinct()
        for edition in editions.order_by("pk"):
            if dry_run:
                count = edition.materials.filter(announcement__isnull=True).released(on).count()
                self.stdout.write(f"{edition}: {count} nieuw materiaal aan te kondigen")
                continue
            with writing(f"Nieuw materiaal van {edition} is niet aangekondigd"):
                message = Material.objects.announce(edition, on)
            if message:
                self.stdout.write(f"{edition}: nieuw materiaal aangekondigd ({message.subject})")
        total = 0
        for message in Message.objects.due(on):
            if dry_run:
                count = message.newcomers().count()
            else:
                what = f"{message.edition}: '{message.subject}' is niet verstuurd"
                with writing(what), atomic_with(send_participant_message) as queue:
                    created = message.address_newcomers()
                    for recipient in created:
                        queue(recipient.pk)
                count = len(created)
            total += count
            if count:
                self.stdout.write(f"{message.edition}: '{message.subject}' aan {count} deelnemers")
        verb = "zou gaan naar" if dry_run else "gaat naar"
        self.stdout.write(f"Klaar: {total} mail(s) {verb} deelnemers.")
