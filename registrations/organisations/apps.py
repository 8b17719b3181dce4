from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    """The register of organisations (debtors) finance keeps: each known once, with where its
    invoices go. Below sign-up: an order links to one; this app uses no other of ours."""

    name = "registrations.organisations"
    label = "organisations"
    verbose_name = "Organisaties"
