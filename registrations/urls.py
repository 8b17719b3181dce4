from django.urls import path

from . import views

app_name = "registrations"

# Tokens are URL-safe base64 (letters, digits, - and _), exactly what <slug:> matches; anything
# else, such as a NUL byte PostgreSQL would refuse in a query, is a 404 before a view runs.
urlpatterns = [
    path("werkplaats/<slug:slug>/inschrijven/", views.register, name="register"),
    path("inschrijving/<slug:token>/", views.detail, name="detail"),
    path("bestelling/<slug:token>/", views.order, name="order"),
    path(
        "bestelling/<slug:token>/deelnemer/<slug:key>/annuleren/",
        views.order_cancel,
        name="order_cancel",
    ),
    path(
        "bestelling/<slug:token>/deelnemer/<slug:key>/vervanger/",
        views.order_substitute,
        name="order_substitute",
    ),
    path("inschrijving/<slug:token>/annuleren/", views.cancel, name="cancel"),
    path("aanbod/<slug:token>/", views.offer, name="offer"),
    path("aanbod/<slug:token>/aannemen/", views.accept_offer, name="accept_offer"),
    path("aanbod/<slug:token>/afwijzen/", views.decline_offer, name="decline_offer"),
    path("inschrijving/<slug:token>/keuzes/", views.change_choices, name="change_choices"),
    path("inschrijving/<slug:token>/vervanger/", views.substitute, name="substitute"),
    path("werkplaats/<slug:slug>/link-opnieuw/", views.resend_link, name="resend_link"),
]
