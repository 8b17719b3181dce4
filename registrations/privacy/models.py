from registrations.models import Registration


class PersonalData(Registration):
    """No table and no rows of its own (a proxy, so backups and dumps pass it by): the
    permissions to give a person their data and to erase them hang here."""

    class Meta:
        proxy = True
        default_permissions = ()
        permissions = [
            ("give_access", "Kan inzage geven in alle gegevens van één persoon"),
            ("erase_person", "Kan één persoon op verzoek wissen"),
        ]
        verbose_name = "persoonsgegevens"
        verbose_name_plural = "persoonsgegevens"
