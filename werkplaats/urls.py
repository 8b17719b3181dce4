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
    path("", include("registrations.urls")),
    path("", include("registrations.attendance.urls")),
    path("", include("programme.urls")),
]
