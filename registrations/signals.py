"""What sign-up tells the parts built on it, which it may not import (invoicing uses
registrations, never the other way round).

registration_cancelled is sent by Registration.cancel() inside its transaction, so every
path that cancels (the participant's page, an admin action, the shell) sends it. Invoicing
listens, to put an invoiced registration in finance's 'te crediteren' queue and tell them.
"""

from django.dispatch import Signal

# Arguments: registration.
registration_cancelled = Signal()
