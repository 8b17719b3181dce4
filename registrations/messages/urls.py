from django.urls import path

from . import views

app_name = "participant_messages"

# Tokens are URL-safe base64, exactly what <slug:> matches; anything else is a 404.
urlpatterns = [
    path(
        "inschrijving/<slug:token>/voorbereiding/<slug:key>/",
        views.material,
        name="material",
    ),
]
