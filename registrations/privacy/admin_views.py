"""The admin pages for a person's rights: find them, download their inzage file, erase them.
admin.py wires them into the registration admin with get_urls. Each is permission-checked
before anything is read; the download and the erasure are POSTs and are recorded."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode

from . import document, records
from .forms import ErasureForm, FindForm
from .person import ErasureRefused, Person

GIVE_ACCESS = "privacy.give_access"
ERASE = "privacy.erase_person"


def _require(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _context(model_admin, request, title, **extra):
    return {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.model._meta,
        "may_erase": request.user.has_perm(ERASE),
        **extra,
    }


def find_page(model_admin, request):
    """A search field; with an address, what the site holds about that person (counts and
    references only) and the two requests: the file and the erasure."""
    _require(request, GIVE_ACCESS)
    form = FindForm(request.GET or None)
    person = Person.find(form.cleaned_data["email"]) if form.is_valid() else None
    parts = document.sections(person) if person else []
    context = _context(
        model_admin, request, "Inzage en verwijdering", form=form, person=person, parts=parts
    )
    return TemplateResponse(request, "privacy/find.html", context)


def download(model_admin, request):
    """The inzage file as a ZIP, recorded."""
    _require(request, GIVE_ACCESS)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    form = FindForm(request.POST)
    if not form.is_valid():
        return redirect(reverse("admin:registrations_registration_privacy"))
    person = Person.find(form.cleaned_data["email"])
    if not person:
        messages.warning(request, "Over dit e-mailadres bewaren we niets.")
        return redirect(_find_url(form.cleaned_data["email"]))
    content, filename = document.zip_file(person)
    records.record(request.user, records.ACCESS, person, person.count, request=request)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def erase_page(model_admin, request):
    """What erasing this person removes and keeps, or why it must wait; posting it with a
    reason erases them and records it."""
    _require(request, ERASE)
    data = request.POST if request.method == "POST" else None
    form = ErasureForm(data, initial={"email": request.GET.get("email", "")})
    email = (request.POST or request.GET).get("email", "").strip()
    if not email:
        return redirect(reverse("admin:registrations_registration_privacy"))
    person = Person.find(email)
    refusals = person.erasure_refusals() if person else []
    if request.method == "POST" and form.is_valid() and person and not refusals:
        orders = len(person.to_erase()["orders"])
        try:
            with transaction.atomic():
                count = person.erase()
                records.record(
                    request.user,
                    records.ERASURE,
                    person,
                    person.count,
                    f"Reden: {form.cleaned_data['reason']}",
                    request=request,
                )
        except ErasureRefused as refusal:
            refusals = [str(refusal)]
        else:
            messages.success(
                request,
                f"Gewist: {count} inschrijving(en) en {orders} "
                f"bestelling(en) ({', '.join(person.references)}). Facturen zijn bewaard.",
            )
            return redirect(reverse("admin:registrations_registration_privacy"))
    context = _context(
        model_admin,
        request,
        "Persoon wissen",
        form=form,
        person=person,
        email=email,
        refusals=refusals,
        to_erase=person.to_erase(),
        find_url=_find_url(email),
    )
    return TemplateResponse(request, "privacy/erase.html", context)


def _find_url(email):
    return f"{reverse('admin:registrations_registration_privacy')}?{urlencode({'email': email})}"
