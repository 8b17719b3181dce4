from django.apps import AppConfig


class IntakeConfig(AppConfig):
    """Each participant's own case: the questions staff ask per edition, the answers on the
    personal page until the deadline, one reminder, and their erasure some weeks after the
    event. Its own app inside `registrations/`: it uses sign-up and the programme; they never
    use it. Coaching builds on it (a coach reads the cases of their own schedule)."""

    name = "registrations.intake"
    label = "intake"
    verbose_name = "Eigen casus"
