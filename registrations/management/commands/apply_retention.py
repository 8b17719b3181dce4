from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.module_loading import import_string

from registrations import emails, retention
from werkplaats import formats
from werkplaats.refusals import writing


class NoticeNotSent(Exception):
    """The mail server refused the notice: its record is rolled back, the next run tries again."""


class Command(BaseCommand):
    help = (
        "De dagelijkse bewaartermijnen (draai dit elke dag, bijvoorbeeld met cron): wist dieet- "
        "en toegankelijkheidswensen na afloop van een editie, waarschuwt medewerkers 30 dagen "
        "voordat een editie wordt geanonimiseerd, en anonimiseert inschrijvingen van edities "
        "waarvan de bewaartermijn voorbij is. Twee keer draaien doet niets dubbel."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Alleen laten zien.")

    def handle(self, *args, dry_run=False, **options):
        if dry_run:
            self._report_plan()
            return
        with writing("Dieet- en toegankelijkheidswensen zijn niet gewist"):
            erased = retention.erase_needs()
        for edition, count in erased.items():
            self.stdout.write(f"{edition}: dieet- en toegankelijkheidswensen gewist bij {count}.")
        for edition, due in retention.editions_to_announce():
            count = edition.registrations.filter(anonymised_at__isnull=True).count()
            try:
                with (
                    writing(f"{edition}: de waarschuwing is niet vastgelegd"),
                    transaction.atomic(),
                ):
                    if not retention.record_notice(edition, due, count):
                        continue
                    if not emails.notify_staff_of_retention(edition, due, count):
                        raise NoticeNotSent
            except NoticeNotSent:
                self.stderr.write(f"{edition}: waarschuwing niet verstuurd; morgen opnieuw.")
                continue
            self.stdout.write(
                f"{edition}: medewerkers gewaarschuwd (anonimiseren op {formats.numeric_date(due)})."
            )
        self._layer_steps(dry_run=False)
        anonymised = 0
        for edition, due in retention.editions_due():
            with writing(f"{edition}: de inschrijvingen zijn niet geanonimiseerd"):
                count = retention.anonymise(edition, due)
            anonymised += count
            self.stdout.write(f"{edition}: {count} inschrijving(en) geanonimiseerd.")
        self.stdout.write(self.style.SUCCESS(f"{anonymised} inschrijving(en) geanonimiseerd."))

    def _layer_steps(self, dry_run):
        """The steps of the layers built on sign-up (settings.RETENTION_STEPS), e.g. the
        cases some weeks after the event."""
        for path in settings.RETENTION_STEPS:
            for line in import_string(path)(dry_run=dry_run):
                self.stdout.write(line)

    def _report_plan(self):
        needs = retention.needs_due().count()
        self.stdout.write(f"Dry run: dieet- en toegankelijkheidswensen te wissen bij {needs}.")
        self._layer_steps(dry_run=True)
        for edition, due in retention.editions_to_announce():
            self.stdout.write(
                f"Dry run: waarschuwing voor {edition} (anonimiseren op {formats.numeric_date(due)})."
            )
        for edition, _due in retention.editions_due():
            count = edition.registrations.filter(anonymised_at__isnull=True).count()
            self.stdout.write(f"Dry run: {count} inschrijving(en) van {edition} te anonimiseren.")
