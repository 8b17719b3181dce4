"""Attendance's figures for the back office's overview: check-in today during the days of an
edition, and certificates still to send once it has ended. Plain data, a fixed number of
queries; werkplaats/admin_site.py assembles the page.
"""

from django.db import models

from .models import Attendance, Certificate


def present_on(day, editions):
    """{edition pk: how many were checked in as present on `day` (in any part of it)};
    one query."""
    rows = (
        Attendance.objects.present()
        .filter(date=day, registration__edition__in=editions)
        .values("registration__edition_id")
        .annotate(n=models.Count("registration", distinct=True))
        .order_by()
    )
    return {row["registration__edition_id"]: row["n"] for row in rows}


def certificates_to_send(today):
    return Certificate.objects.to_send(today)
