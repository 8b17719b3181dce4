"""The pages of the second step of signing in, inside the admin (werkplaats/admin_site.py
adds them to its URLs, never cached). Each takes the admin site first, for the admin's look."""

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model, logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django_otp import login as otp_login

from . import devices, sessions
from .forms import CodeForm, ConfirmAppForm


def signed_in_with_password(view):
    """For the pages between the password and the second factor: a signed-in back-office
    account, verified or not; anyone else goes to the login page."""

    def wrapper(site, request, *args, **kwargs):
        user = request.user
        if not (user.is_active and user.is_staff):
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return view(site, request, *args, **kwargs)

    return wrapper


def next_url(request):
    """Where the person was going, if that is on this site; else the admin's front page."""
    url = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME)
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("admin:index")


def with_next(name, url):
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: url})}" if url else reverse(name)


def page(site, request, template, title, **context):
    return render(
        request,
        template,
        {
            **site.each_context(request),
            "title": title,
            "next": next_url(request),
            **context,
        },
    )


@signed_in_with_password
def verify(site, request):
    """After the password: a code from the app, a recovery code, or a passkey."""
    user = request.user
    if devices.is_verified(user):
        return HttpResponseRedirect(next_url(request))
    if devices.needs_setup(user):
        return redirect(with_next("admin:twofactor_setup", request.GET.get(REDIRECT_FIELD_NAME)))
    form = CodeForm(user, request.POST or None)
    if request.method == "POST":
        if sessions.locked_out(request, user):
            logout(request)
            return redirect("admin:login")
        if form.is_valid():
            otp_login(request, form.device)
            return HttpResponseRedirect(next_url(request))
        if sessions.count_wrong_code(request, user):
            logout(request)
            return redirect("admin:login")
    return page(
        site,
        request,
        "admin/twofactor/verify.html",
        "Inloggen: tweede stap",
        form=form,
        passkey=devices.has_passkey(user),
    )


@signed_in_with_password
def setup(site, request):
    """A new account sets up its second factor before anything else: the app (QR code or
    the secret typed in) or a passkey."""
    user = request.user
    if not devices.needs_setup(user):
        return redirect(with_next("admin:twofactor_verify", request.GET.get(REDIRECT_FIELD_NAME)))
    device = devices.app_to_set_up(user)
    form = ConfirmAppForm(device, request.POST or None)
    if request.method == "POST":
        if sessions.locked_out(request, user):
            logout(request)
            return redirect("admin:login")
        if form.is_valid():
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            return redirect("admin:twofactor_recovery_codes")
        if sessions.count_wrong_code(request, user):
            logout(request)
            return redirect("admin:login")
    return page(
        site,
        request,
        "admin/twofactor/setup.html",
        "Tweestapsverificatie instellen",
        form=form,
        qr_code=devices.qr_code_svg(device),
        secret=devices.secret(device),
    )


@signed_in_with_password
def recovery_codes(site, request):
    """The recovery codes, shown once: made at the first visit after the set-up, and anew
    (the old ones then stop working) when asked for with the button."""
    user = request.user
    if not devices.is_verified(user):
        return redirect(with_next("admin:twofactor_verify", request.get_full_path()))
    codes = None
    if request.method == "POST" or not devices.has_recovery_codes(user):
        codes = devices.new_recovery_codes(user)
    return page(
        site,
        request,
        "admin/twofactor/recovery_codes.html",
        "Herstelcodes",
        codes=codes,
    )


@signed_in_with_password
def sign_out(site, request):
    """Signing out from the second step: ends every session of the account."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    sessions.end_sessions(request.user)
    logout(request)
    return redirect("admin:login")


def reset(site, request, user_id):
    """A superuser removes someone's second factors; they set one up at their next sign-in.
    Behind the admin's login (admin_view), and for superusers only."""
    if not request.user.is_superuser:
        raise PermissionDenied
    person = get_object_or_404(get_user_model(), pk=user_id)
    change = reverse("admin:auth_user_change", args=[person.pk])
    if request.method == "POST":
        devices.reset_second_factor(person, by=request.user)
        messages.success(
            request,
            f"De tweede factor van {person.get_username()} is gewist. "
            "Bij de volgende keer inloggen stelt die een nieuwe in.",
        )
        return redirect(change)
    return page(
        site,
        request,
        "admin/twofactor/reset.html",
        "Tweede factor opnieuw laten instellen",
        person=person,
        change_url=change,
    )
