"""The editors' press pages: matched stories, sources, the watch list."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.bulletins.views import EDIT
from krov.core.access import requires
from krov.press import forms, services
from krov.press.models import Source, Story, WatchTerm


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """To the list the form was on (its filters kept), never to another site."""
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@requires(EDIT)
@require_safe
def story_list(request: HttpRequest) -> HttpResponse:
    return _stories_page(request)


def _stories_page(request: HttpRequest, status: int = 200) -> HttpResponse:
    filters = forms.FilterForm(request.GET or None)
    stories = services.matched_stories()
    chosen: dict = {}
    if filters.is_valid():
        chosen = filters.cleaned_data
        if chosen.get("source"):
            stories = stories.filter(source_id=chosen["source"])
        if chosen.get("status"):
            stories = stories.filter(Q(state=chosen["status"]))
        if chosen.get("term"):
            stories = stories.filter(terms__id=chosen["term"])
    page = Paginator(stories, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "filters": filters,
        "chosen": chosen,
        "sources": Source.objects.order_by("name"),
        "terms": WatchTerm.objects.order_by("term"),
        "statuses": Story.Status.choices,
        "status_form": forms.StatusForm(),
    }
    return _no_store(render(request, "press/stories.html", context, status=status))


@requires(EDIT)
@require_POST
def story_status(request: HttpRequest, pk: int) -> HttpResponse:
    story = get_object_or_404(Story, pk=pk)
    form = forms.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please choose a status."))
        return _stories_page(request, status=400)
    try:
        services.set_status(story, actor=_user(request), status=form.cleaned_data["status"])
    except services.PressError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Status saved."))
    return _back(request, "press:stories")


@requires(EDIT)
@require_POST
def story_answer(request: HttpRequest, pk: int) -> HttpResponse:
    story = get_object_or_404(Story.objects.select_related("source"), pk=pk)
    try:
        post = services.answer_with_bulletin(
            story, actor=_user(request), language=get_language() or "sr"
        )
    except services.PressError as error:
        messages.error(request, str(error))
        return redirect("press:stories")
    messages.success(request, _("A draft in answer to the story is ready to write."))
    return redirect("bulletins:edit", slug=post.slug)


@requires(EDIT)
@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest) -> HttpResponse:
    form = forms.SourceForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.add_source(
                    data["url"], actor=_user(request), name=data["name"], language=data["language"]
                )
            except services.PressError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("The feed is watched from now on."))
                return redirect("press:sources")
        else:
            status = 400
    return _sources_page(request, form, status)


def _sources_page(request: HttpRequest, form=None, status: int = 200) -> HttpResponse:
    context = {"form": form or forms.SourceForm(), "sources": services.sources()}
    return _no_store(render(request, "press/sources.html", context, status=status))


@requires(EDIT)
@require_POST
def source_active(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(Source, pk=pk)
    active = request.POST.get("active")
    if active not in {"0", "1"}:
        messages.error(request, _("Please say whether the feed is watched."))
        return _sources_page(request, status=400)
    services.set_source_active(source, actor=_user(request), active=active == "1")
    messages.success(request, _("Saved."))
    return redirect("press:sources")


@requires(EDIT)
@require_http_methods(["GET", "POST"])
def term_list(request: HttpRequest) -> HttpResponse:
    form = forms.TermForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.add_term(
                    form.cleaned_data["term"],
                    actor=_user(request),
                    endings=form.cleaned_data["endings"],
                )
            except services.PressError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("The term is on the watch list."))
                return redirect("press:terms")
        else:
            status = 400
    return _terms_page(request, form, status)


def _terms_page(request: HttpRequest, form=None, status: int = 200) -> HttpResponse:
    context = {"form": form or forms.TermForm(), "terms": WatchTerm.objects.order_by("term")}
    return _no_store(render(request, "press/terms.html", context, status=status))


@requires(EDIT)
@require_POST
def term_change(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(WatchTerm, pk=pk)
    form = forms.EndingsForm(request.POST)
    if not form.is_valid() or "endings" not in request.POST:
        messages.error(request, _("Please give the endings."))
        return _terms_page(request, status=400)
    try:
        services.change_term(watch, actor=_user(request), endings=form.cleaned_data["endings"])
    except services.PressError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Saved."))
    return redirect("press:terms")


@requires(EDIT)
@require_POST
def term_remove(request: HttpRequest, pk: int) -> HttpResponse:
    watch = get_object_or_404(WatchTerm, pk=pk)
    services.remove_term(watch, actor=_user(request))
    messages.success(request, _("The term is off the watch list."))
    return redirect("press:terms")
