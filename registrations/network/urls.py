from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("inschrijving/<slug:token>/netwerk/", views.consent, name="consent"),
]
