from django.db import models


class PersonalData(models.Model):
    """No table: the permissions to give a person their data and to erase them hang here."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("give_access", "Kan inzage geven in alle gegevens van één persoon"),
            ("erase_person", "Kan één persoon op verzoek wissen"),
        ]
        verbose_name = "persoonsgegevens"
        verbose_name_plural = "persoonsgegevens"

    def __str__(self):
        return self._meta.verbose_name
