from django.urls import path

from . import views

app_name = "intake"

urlpatterns = [
    path("inschrijving/<slug:token>/casus/", views.answer, name="answer"),
]
