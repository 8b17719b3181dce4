from django.apps import AppConfig


class AccreditationConfig(AppConfig):
    """Accreditation points: per edition the professional registers that recognise it, the
    registration numbers participants give, the points earned per day part attended, their
    place on the certificate and the export each register's portal imports. Its own app
    inside `registrations/`: it uses sign-up, attendance and the programme; they never use
    it (they call it through the hooks named in settings)."""

    name = "registrations.accreditation"
    label = "accreditation"
    verbose_name = "Accreditatie"
