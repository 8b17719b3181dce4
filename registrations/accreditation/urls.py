from django.urls import path

from . import views

app_name = "accreditation"

urlpatterns = [
    path("inschrijving/<slug:token>/registratienummer/", views.save, name="numbers"),
]
