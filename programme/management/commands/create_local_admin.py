import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Maakt eenmalig een lokaal beheeraccount 'admin' aan en toont het wachtwoord."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Alleen voor lokaal gebruik: zet DJANGO_DEBUG=1.")
        User = get_user_model()
        login_url = f"{settings.SITE_URL}/{settings.ADMIN_URL}"
        if User.objects.filter(username="admin").exists():
            self.stdout.write(
                f"Beheeraccount 'admin' bestaat al. Inloggen: {login_url} "
                "(wachtwoord vergeten? `.venv/bin/python manage.py changepassword admin`)."
            )
            return
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser("admin", "admin@example.org", password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Beheeraccount aangemaakt. Inloggen: {login_url}\n"
                f"  gebruikersnaam: admin\n  wachtwoord:     {password}\n"
                "Dit wachtwoord wordt maar één keer getoond."
            )
        )
