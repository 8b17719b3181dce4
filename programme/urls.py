from django.urls import path

from . import views

app_name = "programme"

urlpatterns = [
    path("", views.home, name="home"),
    path("werkplaats/<slug:slug>/", views.edition_detail, name="edition"),
    path("werkplaats/<slug:slug>/agenda.ics", views.edition_ics, name="edition_ics"),
    path("privacy/", views.privacy, name="privacy"),
    path("favicon.ico", views.favicon, name="favicon"),
]
