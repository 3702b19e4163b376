"""Housing pages: the board, listings, conversations, moderation, the rent index and the
fair-rent check. Thin: the rules are in services, index and importer."""

from __future__ import annotations

from typing import cast

from csp.decorators import csp_replace
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.core import audit, inputs, undo
from krov.core.access import public, requires
from krov.core.models import AuditEvent
from krov.core.pagecache import cache_public_page
from krov.housing import charts, forms, importer, index, services
from krov.housing.models import (
    LANGUAGES_SPOKEN,
    Ban,
    Conversation,
    District,
    Listing,
    ListingPhoto,
    RentImport,
    RentIndexCell,
    RentObservation,
)

MEMBER = "accounts.use_member_area"
MODERATE = "accounts.moderate_housing"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _synthetic() -> bool:
    return RentObservation.objects.filter(source=RentObservation.SYNTHETIC_SOURCE).exists()


# --- the board ---------------------------------------------------------------------------


@public
@require_safe
@cache_public_page("housing")
def board(request: HttpRequest) -> HttpResponse:
    form = forms.FilterForm(request.GET or None)
    status = 200
    filters = services.Filters()
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            filters = services.Filters(
                district=data["district"],
                kind=data["kind"],
                rooms=data["rooms"],
                rent_min=data["rent_min"],
                rent_max=data["rent_max"],
                size_min=data["size_min"],
                available_by=data["available_by"],
                furnished=data["furnished"],
                pets=data["pets"],
                language=data["language"],
                sort=data["sort"] or "new",
            )
        else:
            status = 400
    found = services.listings(filters).prefetch_related(
        Prefetch("photos", queryset=ListingPhoto.objects.order_by("position", "id"))
    )
    page = Paginator(found, 20).get_page(request.GET.get("page"))
    return render(request, "housing/board.html", {"form": form, "page": page}, status=status)


def _listing(request: HttpRequest, pk: int) -> Listing:
    listing = (
        Listing.objects.select_related("district", "poster")
        .prefetch_related("photos")
        .filter(pk=pk)
        .first()
    )
    if listing is None or not services.visible_to(request.user, listing):
        raise Http404
    return listing


@public
@require_safe
@cache_public_page("housing")
def listing(request: HttpRequest, pk: int) -> HttpResponse:
    item = _listing(request, pk)
    user = request.user
    is_member = user.is_authenticated and user.has_perm(MEMBER)
    own = services.can_edit(user, item)
    context = {
        "listing": item,
        "own": own,
        "verdict": index.fair_rent(
            item.district, item.size_m2, item.rent_eur, exclude_listing=item.pk
        ),
        "spoken": [LANGUAGES_SPOKEN[c] for c in item.language_list if c in LANGUAGES_SPOKEN],
        "can_write": is_member and not own and item.is_visible,
        "can_flag": is_member and not own and item.is_visible,
        "moderator": user.is_authenticated and user.has_perm(MODERATE),
        "message_form": forms.MessageForm(),
        "flag_form": forms.FlagForm(),
        "reason_form": forms.ReasonForm(),
        "conversation": Conversation.objects.filter(listing=item, member_id=user.pk).first()
        if is_member and not own
        else None,
        "synthetic": _synthetic(),
    }
    return render(request, "housing/listing.html", context)


@public
@require_safe
def photo(request: HttpRequest, pk: int, photo_id: int) -> HttpResponseBase:
    from django.core.files.storage import default_storage
    from django.http import FileResponse

    item = _listing(request, pk)
    picture = ListingPhoto.objects.filter(listing=item, pk=photo_id).first()
    if picture is None or not default_storage.exists(picture.image):
        raise Http404
    response = FileResponse(default_storage.open(picture.image, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400" if item.is_visible else "private"
    return response


def _listing_data(form: forms.ListingForm) -> dict:
    return {k: v for k, v in form.cleaned_data.items() if k != "photos"}


@requires(MEMBER)
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest) -> HttpResponse:
    if services.is_banned(request.user):
        return render(request, "housing/banned.html", status=403)
    form = forms.ListingForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                item = services.post_listing(
                    actor=_user(request),
                    data=_listing_data(form),
                    photos=form.cleaned_data["photos"],
                )
            except services.HousingError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                days = services.listing_days()
                messages.success(
                    request,
                    ngettext(
                        "Your listing is on the board for %(days)s day.",
                        "Your listing is on the board for %(days)s days.",
                        days,
                    )
                    % {"days": days},
                )
                return redirect(item.get_absolute_url())
        else:
            status = 400
    context = {"form": form, "listing_days": services.listing_days()}
    return render(request, "housing/edit.html", context, status=status)


@requires(MEMBER)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Listing.objects.select_related("district"), pk=pk)
    if not services.can_edit(request.user, item):
        raise Http404
    initial = {name: getattr(item, name) for name in services.LISTING_FIELDS}
    initial["languages"] = item.language_list
    form = forms.ListingForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
        keep_date=item.available_from,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_listing(
                    item,
                    actor=_user(request),
                    data=_listing_data(form),
                    photos=form.cleaned_data["photos"],
                    remove=inputs.db_ids(request.POST.getlist("remove")),
                )
            except services.HousingError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Saved."))
                return redirect(item.get_absolute_url())
        else:
            status = 400
    context = {
        "form": form,
        "listing": item,
        "photos": item.photos.all(),
        "listing_days": services.listing_days(),
    }
    return render(request, "housing/edit.html", context, status=status)


@requires(MEMBER)
@require_POST
def poster_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    item = get_object_or_404(Listing, pk=pk)
    if not services.can_edit(request.user, item):
        raise Http404
    try:
        if action == "renew":
            services.renew(item, actor=_user(request))
            days = services.listing_days()
            messages.success(
                request,
                ngettext(
                    "Renewed for another %(days)s day.", "Renewed for another %(days)s days.", days
                )
                % {"days": days},
            )
        elif action in ("rented", "withdrawn"):
            services.close(item, actor=_user(request), status=action)
            messages.success(request, _("The listing has left the board."))
        else:
            raise Http404
    except services.HousingError as error:
        messages.error(request, str(error))
        return redirect("housing:mine")
    return redirect("housing:mine")


@requires(MEMBER)
@require_safe
def mine(request: HttpRequest) -> HttpResponse:
    listings = (
        Listing.objects.filter(poster=_user(request))
        .select_related("district")
        .order_by("-published_at")
    )
    return render(
        request,
        "housing/mine.html",
        {"listings": listings, "now": timezone.now(), "banned": services.is_banned(request.user)},
    )


# --- flags and conversations -------------------------------------------------------------


@requires(MEMBER)
@require_POST
def flag(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Listing, pk=pk)
    if not services.visible_to(request.user, item):
        raise Http404  # a hidden listing answers as an unknown one: it does not exist here
    form = forms.FlagForm(request.POST)
    if not form.is_valid():
        return render(request, "housing/problem.html", {"listing": item, "form": form}, status=400)
    try:
        services.flag(
            item,
            actor=_user(request),
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except services.HousingError as error:
        return render(
            request, "housing/problem.html", {"listing": item, "error": str(error)}, status=409
        )
    messages.success(request, _("Thank you. The moderators will look at this listing."))
    return redirect(item.get_absolute_url())


@requires(MEMBER)
@require_POST
def write(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(Listing.objects.select_related("poster"), pk=pk)
    if not services.visible_to(request.user, item):
        raise Http404
    form = forms.MessageForm(request.POST)
    if not form.is_valid():
        return render(request, "housing/problem.html", {"listing": item, "form": form}, status=400)
    try:
        conversation = services.write(item, actor=_user(request), body=form.cleaned_data["body"])
    except services.HousingError as error:
        context = {"listing": item, "error": str(error), "text": form.cleaned_data["body"]}
        return render(request, "housing/problem.html", context, status=409)
    messages.success(request, _("Sent. The poster is told and answers here."))
    return redirect(conversation.get_absolute_url())


@requires(MEMBER)
@require_safe
def inbox(request: HttpRequest) -> HttpResponse:
    conversations = services.conversations_of(request.user)
    page = Paginator(conversations, 30).get_page(request.GET.get("page"))
    return render(request, "housing/inbox.html", {"page": page})


@requires(MEMBER)
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(
        Conversation.objects.select_related("listing", "listing__poster", "member"), pk=pk
    )
    if request.user.pk not in services.participants(item):
        raise Http404
    form = forms.MessageForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.reply(item, actor=_user(request), body=form.cleaned_data["body"])
            except services.HousingError as error:
                form.add_error(None, str(error))
                status = 409
            else:
                return redirect(item.get_absolute_url())
        else:
            status = 400
    context = {
        "conversation": item,
        "messages_list": item.messages.select_related("author"),
        "form": form,
        "is_poster": item.listing.poster_id == request.user.pk,
    }
    return render(request, "housing/conversation.html", context, status=status)


# --- moderation --------------------------------------------------------------------------


@requires(MODERATE)
@require_safe
def moderation(request: HttpRequest) -> HttpResponse:
    context = {
        "flagged": services.flagged_listings().prefetch_related("flags")[:100],
        "hidden": Listing.objects.filter(status=Listing.Status.HIDDEN)
        .select_related("district", "poster")
        .order_by("-published_at")[:100],
        "bans": Ban.objects.select_related("user", "banned_by").order_by("-created_at")[:100],
        "reason_form": forms.ReasonForm(),
    }
    return render(request, "housing/moderation.html", context)


@requires(MODERATE)
@require_http_methods(["GET", "POST"])
def moderate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    item = get_object_or_404(Listing.objects.select_related("poster", "district"), pk=pk)
    if action == "ban":
        return _ban(request, item)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    actor = _user(request)
    reason = request.POST.get("reason", "")
    try:
        if action == "hide":
            services.hide(item, actor=actor, reason=reason)
        elif action == "restore":
            services.restore(item, actor=actor)
        elif action == "dismiss":
            services.dismiss_flags(item, actor=actor)
        else:
            raise Http404
    except services.HousingError as error:
        context = {"listing": item, "error": str(error)}
        return render(request, "housing/problem.html", context, status=409)
    messages.success(request, _("Done."))
    return redirect("housing:moderation")


def _ban(request: HttpRequest, item: Listing) -> HttpResponse:
    """Banning is never one click from a listing card: the card links to this page, which
    says whom it bans and which of their listings it hides, and asks for a reason and "I am
    sure". Once done, the moderation page offers Undo for a while (core.undo, "housing.ban")."""
    actor = _user(request)
    poster = item.poster
    form = forms.ReasonForm(request.POST if request.method == "POST" else None)
    error = ""
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 400
        elif not inputs.confirmed(request):
            error = _("Tick “I am sure” first: nothing was done.")
            status = 409
        else:
            showing = list(services.showing_listings(poster).values_list("pk", flat=True))
            try:
                services.ban(poster, actor=actor, reason=form.cleaned_data["reason"])
            except services.HousingError as problem:
                error = str(problem)
                status = 409
            else:
                undo.offer(request, "housing.ban", user=poster.pk, listings=showing)
                messages.success(request, _("Done."))
                return redirect("housing:moderation")
    context = {
        "listing": item,
        "poster": poster,
        "showing": services.showing_listings(poster).order_by("-published_at")[:50],
        "already_banned": services.is_banned(poster),
        "form": form,
        "error": error,
    }
    response = render(request, "housing/ban.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@requires(MODERATE)
@require_POST
def lift_ban(request: HttpRequest, user_id: int) -> HttpResponse:
    ban = get_object_or_404(Ban.objects.select_related("user"), user_id=user_id)
    services.lift_ban(ban.user, actor=_user(request))
    messages.success(request, _("Done."))
    return redirect("housing:moderation")


# --- rent index --------------------------------------------------------------------------


@public
@require_safe
@cache_public_page("housing")
def rents(request: HttpRequest) -> HttpResponse:
    form = forms.BaseMonthForm(request.GET or None)
    base = index.base_month()
    status = 200
    if form.is_bound:
        if form.is_valid() and form.cleaned_data["base"]:
            base = form.cleaned_data["base"]
        elif not form.is_valid():
            status = 400
    latest = index.latest_month()
    context = {
        "form": form,
        "latest": latest,
        "base": base,
        "rows": index.overview(latest, base) if latest else [],
        "fair_form": forms.FairRentForm(),
        "synthetic": _synthetic(),
        "min_cell": index.settings.KROV_RENT_MIN_CELL,
    }
    return render(request, "housing/rents.html", context, status=status)


def _area(slug: str) -> tuple[str, str, District | None]:
    if slug == RentIndexCell.CITY:
        return slug, _("the whole city"), None
    district = District.objects.filter(slug=slug).first()
    if district is None:
        raise Http404
    return slug, district.name(), district


@requires(MODERATE)
@require_http_methods(["GET", "POST"])
def import_rents(request: HttpRequest) -> HttpResponse:
    """The web form of `krov import-rents`: the same checks and report; the index is then
    recomputed for the months touched by the worker."""
    form = forms.ImportForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
    )
    report = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                report = importer.import_rents(
                    upload.read(), file_name=upload.name, strict=form.cleaned_data["strict"]
                )
            except importer.ImportRefused as error:
                form.add_error("file", str(error))
                status = 400
            else:
                index.schedule(report.months)
                audit.record(
                    AuditEvent.Kind.HOUSING_RENTS_IMPORTED,
                    actor=_user(request),
                    file=upload.name[:100],
                    imported=report.imported,
                    rejected=len(report.rejected),
                )
                status = 200 if report.written else 400
        else:
            status = 400
    context = {"form": form, "report": report, "imports": RentImport.objects.order_by("-id")[:20]}
    return render(request, "housing/import.html", context, status=status)


@public
@require_safe
@cache_public_page("housing")
def rents_area(request: HttpRequest, area: str) -> HttpResponse:
    slug, name, district = _area(area)
    cells = index.series(slug)
    context = {
        "area": slug,
        "name": name,
        "district": district,
        "cells": list(reversed(cells)),
        "description": charts.describe(name, cells),
        "synthetic": _synthetic(),
        "min_cell": index.settings.KROV_RENT_MIN_CELL,
    }
    return render(request, "housing/rents_area.html", context)


@public
@require_safe
@csp_replace({"style-src": ["'unsafe-inline'"]})
@cache_public_page("housing")
def chart(request: HttpRequest, area: str) -> HttpResponse:
    """The chart as an SVG document (pygal's styles are inline; an SVG shown through <img>
    runs no script, and this response allows none)."""
    slug, name, _district = _area(area)
    svg = charts.rent_chart(name, index.series(slug), small=request.GET.get("size") == "small")
    return HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")


@public
@require_safe
def fair_rent(request: HttpRequest) -> HttpResponse:
    form = forms.FairRentForm(request.GET or None)
    verdict = None
    status = 200
    if form.is_bound:
        if form.is_valid():
            data = form.cleaned_data
            rent_eur, _rate = index.to_eur(data["rent"], data["currency"])
            verdict = index.fair_rent(data["district"], data["size_m2"], rent_eur)
        else:
            status = 400
    context = {"form": form, "verdict": verdict, "synthetic": _synthetic()}
    return render(request, "housing/fair_rent.html", context, status=status)
