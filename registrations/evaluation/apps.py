from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    """After the three days: per edition a questionnaire, sent to those recorded present,
    answered once and anonymously, and its results for staff. Its own app inside
    `registrations/`: it uses sign-up, the programme and attendance; none of them uses it."""

    name = "registrations.evaluation"
    label = "evaluation"
    verbose_name = "Evaluatie"
