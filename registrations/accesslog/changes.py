"""A record's own history in the admin ("Geschiedenis"), for every path that changes it.

Django's admin writes its history (LogEntry) only for what its change forms and delete
pages do. The participant's and booker's pages, admin actions, jobs and commands change
personal data as well; each calls `log_change` where the change happens, so the record's
history page shows them all.

    log_change(registration, "Keuzes gewijzigd", actor=PARTICIPANT)
    log_change(registrations, "Geanonimiseerd (bewaartermijn)")  # the system

A LogEntry needs a user. A staff member is themselves; the participant, the booker and the
system are each a user of their own that cannot sign in (inactive, no password), made when
first needed. Records are named by reference (INS-00006), not by name: the history outlives
the personal data.
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType

PARTICIPANT = "deelnemer"
BOOKER = "boeker"
SYSTEM = "systeem"
ACTOR_NAMES = {
    PARTICIPANT: "De deelnemer (eigen pagina)",
    BOOKER: "De boeker (pagina van de bestelling)",
    SYSTEM: "Het systeem (taak of opdracht)",
}

__all__ = ["ADDITION", "BOOKER", "CHANGE", "DELETION", "PARTICIPANT", "SYSTEM", "log_change"]


def actor(name):
    """The user that stands for the participant, the booker or the system: never signs in."""
    user, made = get_user_model().objects.get_or_create(
        username=name, defaults={"is_active": False, "first_name": ACTOR_NAMES[name]}
    )
    if made:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def log_change(objects, message, *, user=None, actor_name=SYSTEM, action=CHANGE):
    """Add `message` to the admin history of `objects` (one model instance or several).

    user: the staff member who did it; without one (or an anonymous one) `actor_name` did:
        PARTICIPANT, BOOKER or SYSTEM.
    action: ADDITION, CHANGE or DELETION, as Django's admin records them.
    Call it inside the transaction of the change, so the history never says what did not
    happen.
    """
    objects = [objects] if hasattr(objects, "_meta") else list(objects)
    if not objects:
        return []
    who = user if user is not None and user.is_authenticated else actor(actor_name)
    entries = [
        LogEntry(
            user_id=who.pk,
            content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
            object_id=str(obj.pk),
            object_repr=str(getattr(obj, "reference", None) or obj)[:200],
            action_flag=action,
            change_message=message,
        )
        for obj in objects
    ]
    return LogEntry.objects.bulk_create(entries)
