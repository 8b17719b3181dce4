from django.apps import AppConfig


class CoachingConfig(AppConfig):
    """Coach conversations: coaches, their time slots per edition, one booking per
    participant and one participant per slot, and each coach's own schedule with the cases
    of the people in it. Its own app inside `registrations/`, built on sign-up and on intake
    (the cases); nothing below uses it."""

    name = "registrations.coaching"
    label = "coaching"
    verbose_name = "Coachgesprekken"
