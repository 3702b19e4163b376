"""Directory and guide pages; proposals; the reviewers' page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.core import inputs, links, markdown, structured, undo
from krov.core.access import public, requires
from krov.core.pagecache import cache_public_page
from krov.directory import forms, services
from krov.directory.models import AREAS, LANGUAGES_SPOKEN, Guide, GuideText, Organisation, Proposal

REVIEW = "accounts.review_directory"
MEMBER = "accounts.use_member_area"


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@public
@require_safe
@cache_public_page("directory")
def directory(request: HttpRequest) -> HttpResponse:
    form = forms.FilterForm(request.GET or None)
    status = 200
    filters: dict = {}
    if form.is_bound:
        if form.is_valid():
            filters = {
                "kind": form.cleaned_data["kind"],
                "area": form.cleaned_data["area"],
                "language": form.cleaned_data["language"],
                "query": form.cleaned_data["q"],
            }
        else:
            status = 400
    page = Paginator(services.organisations(**filters), 30).get_page(request.GET.get("page"))
    context = {"form": form, "page": page, "areas": AREAS, "spoken": LANGUAGES_SPOKEN}
    return render(request, "directory/list.html", context, status=status)


def _organisation(slug: str) -> Organisation:
    org = (
        Organisation.objects.prefetch_related("texts", "guides__texts")
        .select_related("verified_by")
        .filter(slug=slug)
        .first()
    )
    if org is None:
        raise Http404
    return org


def _org_json_ld(request: HttpRequest, org: Organisation, name: str, description: str) -> str:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Organization",
        "name": name,
        "description": description[:500],
        "url": org.website or links.absolute(org.get_absolute_url()),
        "knowsLanguage": org.language_list,
    }
    if org.email:
        data["email"] = org.email
    if org.address or org.city:
        data["address"] = structured.postal_address(org.address, city=org.city)
    # Where else the organisation speaks for itself: its website and Telegram channel.
    same_as = [org.website] if org.website else []
    if org.telegram:
        same_as.append("https://t.me/" + org.telegram.lstrip("@"))
    if same_as:
        data["sameAs"] = same_as
    return structured.script_json(data)


@public
@require_safe
@cache_public_page("directory")
def organisation(request: HttpRequest, slug: str) -> HttpResponse:
    org = _organisation(slug)
    text = org.text(get_language())
    here = links.absolute(org.get_absolute_url())
    context = {
        "org": org,
        "text": text,
        "description": markdown.render(text.description if text else ""),
        "json_ld": _org_json_ld(
            request, org, text.name if text else org.slug, text.description if text else ""
        ),
        "areas": [AREAS[a] for a in org.area_list if a in AREAS],
        "spoken": [
            LANGUAGES_SPOKEN[code] for code in org.language_list if code in LANGUAGES_SPOKEN
        ],
        "revisions": org.revisions.select_related("author")[:20],
        "language_alternates_hreflang": [
            {"code": t.language, "url": translate_url(here, t.language)} for t in org.texts.all()
        ],
    }
    return render(request, "directory/organisation.html", context)


@requires(MEMBER)
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest, slug: str = "") -> HttpResponse:
    """A new organisation, or (with a slug) a correction to one."""
    org = _organisation(slug) if slug else None
    initial: dict = {"language": get_language()}
    if org is not None:
        text = org.text(get_language())
        initial.update(
            name=text.name if text else "",
            description=text.description if text else "",
            kind=org.kind,
            areas=org.area_list,
            languages=org.language_list,
            city=org.city,
            address=org.address,
            online=org.online,
            opening_hours=org.opening_hours,
            website=org.website,
            email=org.email,
            telegram=org.telegram,
            language=text.language if text else org.original_language,
        )
    form = forms.OrganisationForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
    status = 200
    duplicate = None
    if request.method == "POST":
        if form.is_valid():
            try:
                services.propose(actor=_user(request), data=form.cleaned_data, organisation=org)
            except services.Duplicate as error:
                form.add_error(None, str(error))
                duplicate, status = error.existing, 409
            except services.DirectoryError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Thank you. A reviewer will look at your proposal."))
                return redirect(org.get_absolute_url() if org else reverse("directory:list"))
        else:
            status = 400
    context = {"form": form, "org": org, "duplicate": duplicate}
    return render(request, "directory/propose.html", context, status=status)


@requires(REVIEW)
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        proposal = Proposal.objects.filter(pk=_int(request.POST.get("proposal"))).first()
        if proposal is None:
            raise Http404
        try:
            if request.POST.get("decision") == "approve":
                services.approve(proposal, actor=_user(request))
                messages.success(request, _("Approved."))
            elif not inputs.confirmed(request):
                messages.error(request, _("Tick “I am sure” first: nothing was done."))
            else:
                services.reject(
                    proposal, actor=_user(request), reason=request.POST.get("reason", "")
                )
                messages.success(request, _("Rejected. The proposer is told why in five minutes."))
                undo.offer(request, "directory.reject", proposal=proposal.pk)
        except services.DirectoryError as error:
            messages.error(request, str(error))
        return redirect("directory:review")
    proposals = services.pending_proposals().select_related("proposer", "organisation")
    proposals = proposals.prefetch_related("organisation__texts")[:100]
    context = {
        "proposals": [(p, services.proposal_changes(p)) for p in proposals],
        "stale": services.stale_guides()[:100],
    }
    response = render(request, "directory/review.html", context)
    response["Cache-Control"] = "no-store"
    return response


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- guides -------------------------------------------------------------------------------------


@public
@require_safe
@cache_public_page("directory")
def guides(request: HttpRequest) -> HttpResponse:
    all_guides = Guide.objects.prefetch_related(Prefetch("texts", queryset=GuideText.objects.all()))
    by_topic: dict = {}
    for guide in all_guides:
        by_topic.setdefault(guide.get_topic_display(), []).append(guide)
    return render(request, "directory/guides.html", {"by_topic": by_topic})


def _guide(slug: str) -> Guide:
    guide = (
        Guide.objects.prefetch_related("texts", "organisations__texts")
        .select_related("verified_by")
        .filter(slug=slug)
        .first()
    )
    if guide is None:
        raise Http404
    return guide


@public
@require_safe
@cache_public_page("directory")
def guide(request: HttpRequest, slug: str) -> HttpResponse:
    item = _guide(slug)
    text = item.text(get_language())
    body, toc = markdown.render_with_toc(text.body if text else "")
    context = {
        "guide": item,
        "text": text,
        "body": body,
        "toc": toc,
        "not_translated": text is not None and text.language != get_language(),
    }
    return render(request, "directory/guide.html", context)


@requires(REVIEW)
@require_http_methods(["GET", "POST"])
def guide_edit(request: HttpRequest, slug: str = "") -> HttpResponse:
    item = _guide(slug) if slug else None
    initial: dict = {"language": get_language()}
    if item is not None:
        text = item.text(get_language())
        initial.update(
            language=text.language if text else item.original_language,
            title=text.title if text else "",
            body=text.body if text else "",
            steps=text.steps if text else "",
            topic=item.topic,
            sources=item.sources,
            verify_by=item.verify_by,
            organisations=list(item.organisations.all()),
        )
    form = forms.GuideForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                saved = services.save_guide(
                    item,
                    actor=_user(request),
                    language=data["language"],
                    title=data["title"],
                    body=data["body"],
                    topic=data["topic"],
                    verify_by=data["verify_by"],
                    steps=data["steps"],
                    sources=data["sources"],
                    organisations=list(data["organisations"]),
                )
            except services.DirectoryError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Saved."))
                return redirect(saved.get_absolute_url())
        else:
            status = 400
    return render(
        request, "directory/guide_edit.html", {"form": form, "guide": item}, status=status
    )


@requires(REVIEW)
@require_POST
def guide_verify(request: HttpRequest, slug: str) -> HttpResponse:
    item = _guide(slug)
    services.verify_guide(item, actor=_user(request))
    messages.success(request, _("Marked as verified today."))
    return redirect(item.get_absolute_url())
