import getpass
import os

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from werkplaats.twofactor import devices

PASSWORD_VARIABLE = "BACKOFFICE_PASSWORD"


class Command(BaseCommand):
    help = (
        "Maakt een beheeraccount in een groep, met een authenticator-app met de gegeven "
        "sleutel (voor de eerste inrichting en voor scripts). Het wachtwoord komt uit "
        f"{PASSWORD_VARIABLE} of wordt gevraagd."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("email")
        parser.add_argument("group", help="bijvoorbeeld Medewerkers, Financiën of Coaches")
        parser.add_argument(
            "--totp-secret",
            help="de sleutel van de authenticator-app in base32; zonder: een nieuwe, getoond",
        )
        parser.add_argument("--dry-run", action="store_true", help="controleer, bewaar niets")

    def handle(self, *args, username, email, group, totp_secret, dry_run, **options):
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            raise CommandError(f"Er is al een account '{username}'.")
        found = Group.objects.filter(name=group).first()
        if found is None:
            names = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
            raise CommandError(f"Groep '{group}' bestaat niet (wel: {names}).")
        if totp_secret:
            try:
                devices.key_from_secret(totp_secret)
            except ValueError:
                raise CommandError(
                    "--totp-secret moet een base32-sleutel van minstens 16 tekens zijn."
                ) from None
        password = self.password()
        user = User(username=username, email=email, is_staff=True)
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        with transaction.atomic():
            user.set_password(password)
            user.save()
            user.groups.add(found)
            app = devices.add_app(user, totp_secret)
            if dry_run:
                transaction.set_rollback(True)
        if dry_run:
            self.stdout.write(f"Proef: account '{username}' in {group} kan worden gemaakt.")
            return
        self.stdout.write(self.style.SUCCESS(f"Account '{username}' gemaakt in {group}."))
        self.stdout.write(
            f"  sleutel authenticator-app: {devices.secret(app)}\n  adres: {app.config_url}"
        )

    def password(self):
        password = os.environ.get(PASSWORD_VARIABLE)
        if password:
            return password
        if not os.isatty(0):
            raise CommandError(f"Geef het wachtwoord in {PASSWORD_VARIABLE}.")
        password = getpass.getpass("Wachtwoord: ")
        if password != getpass.getpass("Nog een keer: "):
            raise CommandError("De wachtwoorden verschillen.")
        return password
