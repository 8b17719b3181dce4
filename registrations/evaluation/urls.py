from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("inschrijving/<slug:token>/evaluatie/", views.answer, name="answer"),
]
