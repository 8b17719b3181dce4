from django.apps import AppConfig


class AccessLogConfig(AppConfig):
    """Who saw and changed what in the back office: every export or download of personal
    data, every bulk action, every sign-in (failed too). Append-only, kept for a set period
    (settings.ACCESS_LOG_RETENTION_MONTHS) and then removed by the retention job.

    Below every app that holds personal data: each records where its export happens
    (`registrations.accesslog.log.record`); this app imports none of them."""

    name = "registrations.accesslog"
    label = "accesslog"
    verbose_name = "Toegangslog"

    def ready(self):
        # Sign-ins come from Django's auth (and axes), not from our views: its signals are
        # the one place every sign-in passes.
        from . import signals  # noqa: F401
