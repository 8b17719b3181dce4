import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from werkplaats.twofactor import devices


class Command(BaseCommand):
    help = (
        "Maakt eenmalig een lokaal beheeraccount 'admin' aan en toont het wachtwoord, en de "
        "sleutel voor een authenticator-app (de tweede stap van het inloggen)."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Alleen voor lokaal gebruik: zet DJANGO_DEBUG=1.")
        User = get_user_model()
        login_url = f"{settings.SITE_URL}/{settings.ADMIN_URL}"
        admin = User.objects.filter(username="admin").first()
        if admin is not None:
            self.stdout.write(
                f"Beheeraccount 'admin' bestaat al. Inloggen: {login_url} "
                "(wachtwoord vergeten? `.venv/bin/python manage.py changepassword admin`)."
            )
        else:
            password = secrets.token_urlsafe(12)
            admin = User.objects.create_superuser("admin", "admin@example.org", password)
            self.stdout.write(
                self.style.SUCCESS(
                    f"Beheeraccount aangemaakt. Inloggen: {login_url}\n"
                    f"  gebruikersnaam: admin\n  wachtwoord:     {password}\n"
                    "Dit wachtwoord wordt maar één keer getoond."
                )
            )
        # A local account only: its secret may be shown again, so `make run` stays two
        # commands for whoever lost it.
        app = TOTPDevice.objects.filter(user=admin, confirmed=True).first()
        if app is None:
            app = devices.add_app(admin)
        self.stdout.write(
            "Tweede stap: zet deze sleutel in een authenticator-app "
            "(of gebruik `oathtool --totp -b SLEUTEL`):\n"
            f"  sleutel: {devices.secret(app)}\n  adres:   {app.config_url}"
        )
