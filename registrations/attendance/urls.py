from django.urls import path

from . import views

app_name = "attendance"

# Tokens and codes are URL-safe base64, exactly what <slug:> matches; anything else is a 404
# before a view runs.
urlpatterns = [
    path(
        "inschrijving/<slug:token>/bewijs-van-deelname.pdf",
        views.download_certificate,
        name="certificate_download",
    ),
    path("certificaat/<slug:code>/", views.verify_certificate, name="verify"),
]
