from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from programme.views import healthz

admin.site.site_header = "Werkplaats – beheer"
admin.site.site_title = "Werkplaats beheer"
admin.site.index_title = "Beheer van werkplaatsen, inschrijvingen en facturen"

urlpatterns = [
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The workshop page first: Django tries the patterns in order, and no address of the
    # others looks like one of programme's.
    path("", include("programme.urls")),
    path("", include("registrations.urls")),
    path("", include("registrations.attendance.urls")),
]
