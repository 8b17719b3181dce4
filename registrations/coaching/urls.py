from django.urls import path

from . import views

app_name = "coaching"

urlpatterns = [
    path("inschrijving/<slug:token>/coachgesprek/", views.book, name="book"),
    path("inschrijving/<slug:token>/coachgesprek/annuleren/", views.cancel_booking, name="cancel"),
    path("inschrijving/<slug:token>/coachgesprek.ics", views.slot_ics, name="ics"),
]
