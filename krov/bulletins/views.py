"""Bulletin pages: list, detail, Atom feed; the editors' pages; the bulletins' part of the
site search and sitemap (registered in krov.bulletins.apps)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.bulletins import forms, services
from krov.bulletins.models import Post, Tag
from krov.core import links, markdown
from krov.core.access import public, requires
from krov.core.pagecache import cache_public_page
from krov.core.scripts import in_page_script
from krov.core.services import interface_languages

EDIT = "accounts.edit_bulletins"


def _posts():
    return services.with_versions()


@public
@require_safe
@cache_public_page("bulletins")
def post_list(request: HttpRequest) -> HttpResponse:
    posts = _posts().published()
    tag = request.GET.get("tag", "")[:40]
    current_tag = Tag.objects.filter(slug=tag).first() if tag else None
    if tag and current_tag is None:
        raise Http404
    if current_tag:
        posts = posts.filter(tags=current_tag)
    page = Paginator(posts, 20).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "tag": current_tag,
        "tags": Tag.objects.filter(posts__isnull=False).distinct(),
    }
    return render(request, "bulletins/list.html", context)


def _visible_post(request: HttpRequest, slug: str) -> Post:
    post = _posts().filter(slug=slug).first()
    if post is None:
        raise Http404
    if not post.is_visible and not services.can_edit(request.user):
        raise Http404
    return post


@public
@require_safe
@cache_public_page("bulletins")
def post_detail(request: HttpRequest, slug: str) -> HttpResponse:
    post = _visible_post(request, slug)
    language = get_language()
    version = post.version(language)
    here = links.absolute(post.get_absolute_url())
    available = sorted(v.language for v in post.versions.all())
    context = {
        "post": post,
        "version": version,
        "body": markdown.render(version.body if version else ""),
        "not_translated": version is not None and version.language != language,
        "absolute_url": here,
        "cover_url": here + "cover.jpg",
        # Only the languages that exist (overrides the site-wide list in <head>).
        "language_alternates_hreflang": [
            {"code": code, "url": translate_url(here, code)} for code in available
        ],
    }
    return render(request, "bulletins/detail.html", context)


class KrovAtomFeed(Atom1Feed):
    """Atom as RFC 4287 means it: the plain-text summary goes out as `type="text"` (a "<" in
    it is text, not markup), the post's sanitised HTML as `<content type="html">`, and an
    entry in another language than the feed says so with its own `xml:lang`."""

    def root_attributes(self):
        # A relative link in a post's content ("/en/guides/...") resolves on the site.
        return {**super().root_attributes(), "xml:base": links.site() + "/"}

    def item_attributes(self, item):
        attributes = super().item_attributes(item)
        if item.get("language") and item["language"] != self.feed["language"]:
            attributes["xml:lang"] = item["language"]
        return attributes

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"]:
            handler.addQuickElement("summary", item["description"], {"type": "text"})
        if item.get("content_html"):
            handler.addQuickElement("content", item["content_html"], {"type": "html"})


class LatestBulletins(Feed):
    """Atom, one feed per language (the URL's), cached and refreshed on publication. Links
    and ids are built from KROV_SITE_URL, never from the request's Host header."""

    feed_type = KrovAtomFeed

    def title(self):
        return _("Krov bulletins")

    def link(self):
        return links.absolute(reverse("bulletins:list"))

    def feed_url(self):
        return links.absolute(reverse("bulletins:feed"))

    def feed_guid(self):
        return self.feed_url()

    def subtitle(self):
        return _("News from the anti-war diaspora")

    def items(self):
        return _posts().published()[:30]

    def item_title(self, item: Post):
        version = item.version(get_language())
        return version.title if version else item.slug

    def item_description(self, item: Post):
        version = item.version(get_language())
        return version.summary if version else ""

    def item_link(self, item: Post):
        return links.absolute(item.get_absolute_url())

    def item_guid(self, item: Post):
        return self.item_link(item)

    def item_pubdate(self, item: Post):
        return item.published_at

    def item_updateddate(self, item: Post):
        return item.updated_at

    def item_author_name(self, item: Post):
        return item.author.pseudonym

    def item_categories(self, item: Post):
        # In the feed's script: a Serbian tag in Cyrillic in the sr feed, in Latin in sr-latn.
        language = get_language()
        return [
            in_page_script(tag.name, language, language=tag.language or None)
            for tag in item.tags.all()
        ]

    def item_extra_kwargs(self, item: Post):
        version = item.version(get_language())
        return {
            "language": version.language if version else item.original_language,
            "content_html": str(markdown.render(version.body)) if version else "",
        }


_feed = LatestBulletins()


@public
@require_safe
@cache_public_page("bulletins")
def feed(request: HttpRequest) -> HttpResponse:
    return _feed(request)


# --- editors ------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


@requires(EDIT)
@require_http_methods(["GET", "POST"])
def editor_list(request: HttpRequest) -> HttpResponse:
    form = forms.VersionForm(
        request.POST if request.method == "POST" else None, initial={"language": get_language()}
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                post = services.create_post(
                    actor=_user(request),
                    language=data["language"],
                    title=data["title"],
                    summary=data["summary"],
                    body=data["body"],
                    tags=form.tag_names(),
                )
            except services.BulletinError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Saved as a draft."))
                return redirect("bulletins:edit", slug=post.slug)
        else:
            status = 400
    posts = _posts().order_by("-updated_at")[:100]
    return render(
        request, "bulletins/editor_list.html", {"form": form, "posts": posts}, status=status
    )


def _editable(slug: str) -> Post:
    post = _posts().filter(slug=slug).first()
    if post is None:
        raise Http404
    return post


@requires(EDIT)
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, slug: str) -> HttpResponse:
    post = _editable(slug)
    language = request.GET.get("lang") or request.POST.get("language") or post.original_language
    if language not in interface_languages():
        language = post.original_language
    pending = services.pending_edit(post)
    existing = pending.get(language) or {v.language: v for v in post.versions.all()}.get(language)
    initial = {"language": language, "tags": ", ".join(t.name for t in post.tags.all())}
    if existing:
        initial.update(title=existing.title, summary=existing.summary, body=existing.body)
    form = forms.VersionForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.write(
                    post,
                    actor=_user(request),
                    language=data["language"],
                    title=data["title"],
                    summary=data["summary"],
                    body=data["body"],
                )
                services.set_tags(post, actor=_user(request), names=form.tag_names())
            except services.BulletinError as error:
                form.add_error(None, str(error))
                status = 400
            else:
                messages.success(request, _("Saved."))
                return redirect(reverse("bulletins:edit", args=[post.slug]) + f"?lang={language}")
        else:
            status = 400
    context = {
        "post": post,
        "form": form,
        "language": language,
        "languages": settings.LANGUAGES,
        "versions": {v.language: v for v in post.versions.all()},
        "approve_form": forms.ApproveForm(),
        "can_approve": services.may_approve(post, request.user),
        "seen": services.fingerprint(post),
        "pending": pending,
        "pending_changes": services.edit_changes(post) if pending else {},
        # What the public page would show of this language, before it is submitted.
        "preview": markdown.render(existing.body) if existing else "",
        "can_approve_edit": bool(pending)
        and services.can_publish(request.user)
        and (
            settings.KROV_BULLETINS_SELF_APPROVAL
            or request.user.pk
            not in {post.last_writer_id, *(r.written_by_id for r in pending.values())}
        ),
    }
    response = render(request, "bulletins/edit.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@requires(EDIT)
@require_POST
def workflow(request: HttpRequest, slug: str, action: str) -> HttpResponse:
    post = _editable(slug)
    actor = _user(request)
    try:
        if action == "submit":
            services.submit(post, actor=actor)
            messages.success(request, _("Submitted for review."))
        elif action == "approve":
            form = forms.ApproveForm(request.POST)
            when = form.cleaned_data.get("publish_at") if form.is_valid() else None
            if not form.is_valid():
                raise services.BulletinError(_("Please give a valid date and time."))
            services.approve(post, actor=actor, publish_at=when, seen=request.POST.get("seen", ""))
            messages.success(request, _("Approved and published."))
        elif action == "approve-edit":
            services.approve_edit(post, actor=actor, seen=request.POST.get("seen", ""))
            messages.success(request, _("The edit is approved and published."))
        elif action == "discard-edit":
            services.discard_edit(post, actor=actor)
            messages.success(request, _("The edit is discarded; the published text stays."))
        elif action == "send-back":
            services.send_back(post, actor=actor)
            messages.success(request, _("Back to draft."))
        elif action == "cover":
            upload = request.FILES.get("cover")
            if upload is None:
                raise services.BulletinError(_("Please choose a picture."))
            services.set_cover(post, actor=actor, upload=upload)
            messages.success(request, _("Cover saved."))
        else:
            raise Http404
    except services.BulletinError as error:
        messages.error(request, str(error))
    return redirect("bulletins:edit", slug=post.slug)


@public
@require_safe
def cover(request: HttpRequest, slug: str) -> HttpResponseBase:
    from django.core.files.storage import default_storage
    from django.http import FileResponse

    post = _visible_post(request, slug)
    if not post.cover or not default_storage.exists(post.cover):
        raise Http404
    response = FileResponse(default_storage.open(post.cover, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- the bulletins' part of the sitemap (krov.core.sitemap) -----------------------------------


def sitemap_pages() -> Iterator[tuple[str, date]]:
    """Every language version of every published bulletin."""
    for post in _posts().published()[:5000]:
        changed = post.updated_at.date()
        for version in post.versions.all():
            yield f"/{version.language}/bulletins/{post.slug}/", changed
