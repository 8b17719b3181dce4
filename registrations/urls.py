from django.urls import path

from . import views

app_name = "registrations"

urlpatterns = [
    path("werkplaats/<slug:slug>/inschrijven/", views.register, name="register"),
    path("inschrijving/<str:token>/", views.detail, name="detail"),
    path("inschrijving/<str:token>/annuleren/", views.cancel, name="cancel"),
]
