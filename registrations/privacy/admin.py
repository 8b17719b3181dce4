from django.urls import path

from werkplaats.admin_tools import admin_page

from . import admin_views


class PrivacyRegistrationMixin:
    """What the rights of the people add to the registration admin: the page to find a
    person (also from a registration's own page), their inzage file and their erasure."""

    change_form_template = "privacy/registration_change_form.html"
    change_list_template = "privacy/registration_change_list.html"

    def get_urls(self):
        return [
            path(
                "privacy/",
                admin_page(self, admin_views.find_page),
                name="registrations_registration_privacy",
            ),
            path(
                "privacy/inzage/",
                admin_page(self, admin_views.download),
                name="registrations_registration_privacy_file",
            ),
            path(
                "privacy/wissen/",
                admin_page(self, admin_views.erase_page),
                name="registrations_registration_privacy_erase",
            ),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        may = request.user.has_perm(admin_views.GIVE_ACCESS)
        extra_context = {**(extra_context or {}), "may_give_access": may}
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        may = request.user.has_perm(admin_views.GIVE_ACCESS)
        extra_context = {**(extra_context or {}), "may_give_access": may}
        return super().change_view(request, object_id, form_url, extra_context)
