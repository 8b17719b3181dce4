from django.apps import AppConfig


class ParticipantMessagesConfig(AppConfig):
    """Mail to the participants of an edition (a group of them, or the practical information
    before the start) and their preparation material. Its own app inside `registrations/`, like
    attendance: it uses sign-up, attendance and the programme; none of them uses it. Its label
    is not `messages`, which is Django's own (django.contrib.messages)."""

    name = "registrations.messages"
    label = "participant_messages"
    verbose_name = "Berichten aan deelnemers"
