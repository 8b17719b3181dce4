from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    """The three days themselves and after: attendance per day, name badges and certificates
    of participation. Its own app inside `registrations/`, like invoicing: it uses sign-up and
    the programme; they never use it, and it never uses invoicing."""

    name = "registrations.attendance"
    label = "attendance"
    verbose_name = "Aanwezigheid en bewijs van deelname"
