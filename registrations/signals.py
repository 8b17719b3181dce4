"""What sign-up tells the parts built on it, which it may not import (invoicing uses
registrations, never the other way round).

registration_cancelled is sent by Registration.cancel() inside its transaction, so every
path that cancels (the participant's page, an admin action, the shell) sends it. Invoicing
listens, to put an invoiced registration in finance's 'te crediteren' queue and tell them.
"""

from django.dispatch import Signal

# Arguments: registration.
registration_cancelled = Signal()

# Sent by WaitingListOffer.objects.offer_free_places() for each offer it makes, inside the
# transaction that freed the place. The models cannot queue mail themselves (tasks.py imports
# them), yet every path that frees a place, the shell included, must reach the next in line:
# tasks.py listens and queues the offer's e-mail in the same transaction.
# Arguments: offer.
waiting_list_offer_made = Signal()
