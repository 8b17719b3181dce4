"""A refused step as one line of Dutch text, for a message, a job's outcome or a command."""


def refusal_text(refusal):
    """The reasons of a ValidationError joined with "; ", or the message of any other refusal
    (TransitionRefused, InvoiceRefused, ...)."""
    return "; ".join(refusal.messages) if hasattr(refusal, "messages") else str(refusal)
