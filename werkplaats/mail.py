"""Rendering and sending e-mail, for every app: each message from its templates
(templates/emails/<name>_{subject,body}.txt and _body.html), each failure logged by reference.

Which mail an app sends lives in that app's emails.py; when it goes out is decided by the
view, admin action or command that causes it, which queues a task (werkplaats/queue.py).
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def render_message(name, context, to, attachments=()):
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(render_to_string(f"emails/{name}_body.html", context), "text/html")
    for attachment in attachments:
        message.attach(*attachment)
    return message


def send_logged(message, reference, what):
    """Send; on a mail server failure log it (by reference, no personal data) and go on."""
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("Could not send %s for %s: %s", what, reference, error.__class__.__name__)
        return False
    return True
