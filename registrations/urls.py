from django.urls import path

from . import views

app_name = "registrations"

# Tokens are URL-safe base64 (letters, digits, - and _), exactly what <slug:> matches; anything
# else, such as a NUL byte PostgreSQL would refuse in a query, is a 404 before a view runs.
urlpatterns = [
    path("werkplaats/<slug:slug>/inschrijven/", views.register, name="register"),
    path("inschrijving/<slug:token>/", views.detail, name="detail"),
    path("inschrijving/<slug:token>/annuleren/", views.cancel, name="cancel"),
    path("inschrijving/<slug:token>/keuzes/", views.change_choices, name="change_choices"),
    path("inschrijving/<slug:token>/vervanger/", views.substitute, name="substitute"),
    path("werkplaats/<slug:slug>/link-opnieuw/", views.resend_link, name="resend_link"),
]
