from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from programme.views import healthz

urlpatterns = [
    # Passkeys' JSON endpoints (django-otp-webauthn), before the admin, whose catch-all would
    # take them. Registering needs a signed-in account (and its second factor once it has
    # one); signing in with a passkey needs the password first (no passwordless sign-in).
    path(f"{settings.ADMIN_URL}passkeys/", include("django_otp_webauthn.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
    path("healthz", healthz, name="healthz"),
    # The workshop page first: Django tries the patterns in order, and no address of the
    # others looks like one of programme's.
    path("", include("programme.urls")),
    path("", include("registrations.urls")),
    path("", include("registrations.attendance.urls")),
    path("", include("registrations.messages.urls")),
    path("", include("registrations.intake.urls")),
    path("", include("registrations.coaching.urls")),
    path("", include("registrations.evaluation.urls")),
    path("", include("registrations.network.urls")),
    path("", include("registrations.accreditation.urls")),
]
