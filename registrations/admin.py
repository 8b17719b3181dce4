from django.contrib import admin

from .models import Registration


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    list_display = [
        "full_name",
        "organisation",
        "sector",
        "edition",
        "status",
        "created_at",
        "email",
    ]
    list_select_related = ["edition"]
