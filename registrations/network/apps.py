from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """A network by consent: participants who choose to share their name, organisation,
    function and e-mail with the others of their edition who did the same. Its own app
    inside `registrations/`: it uses sign-up; sign-up never uses it."""

    name = "registrations.network"
    label = "network"
    verbose_name = "Netwerk"
