"""Bulletin pages: list, detail, Atom feed; the editors' pages; the bulletins' part of the
site search and sitemap (registered in krov.bulletins.apps)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import cast

from django.conf import settings
from django.contrib import messages
from django.contrib.syndication.views import Feed
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from krov.accounts.models import User
from krov.bulletins import forms, media, services
from krov.bulletins.models import PendingRecording, Post, Recording
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
    tag = request.GET.get("tag", "")
    current_tag = None
    if tag:
        # A value that cannot be a slug names no tag (and is never put in a query).
        slug = forms.tag_slug(tag)
        current_tag = services.with_translations().filter(slug=slug).first() if slug else None
        if current_tag is None:
            raise Http404
    if current_tag:
        posts = posts.filter(tags=current_tag)
    page = Paginator(posts, 20).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "tag": current_tag,
        "tags": services.used_tags(),
    }
    return render(request, "bulletins/list.html", context)


def _visible_post(request: HttpRequest, slug: str) -> Post:
    post = _posts().select_related("recording").filter(slug=slug).first()
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
    recording = services.playable(post)
    context = {
        "post": post,
        "version": version,
        "recording": recording,
        "audio_urls": _audio_urls(post, recording) if recording else None,
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
        if item.get("related"):
            handler.addQuickElement("link", "", item["related"])
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
        return with_answers(_posts().published().select_related("recording"))[:30]

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
        # In the feed's language when translated, else the tag's own name; a Serbian tag in
        # Cyrillic in the sr feed, in Latin in sr-latn (krov.bulletins.services.tag_name).
        return [services.tag_name(tag).text for tag in item.tags.all()]

    def item_enclosures(self, item: Post):
        recording = services.playable(item)
        if recording is None:
            return []
        urls = _audio_urls(item, recording)
        return [Enclosure(urls["mp3"], str(recording.mp3_bytes), "audio/mpeg")]

    def item_extra_kwargs(self, item: Post):
        version = item.version(get_language())
        return {
            "language": version.language if version else item.original_language,
            "content_html": str(markdown.render(version.body)) if version else "",
            "related": _related_link(item),
        }


_feed = LatestBulletins()


def with_answers(posts):
    """Posts with the press stories they answer (one query for all; see `_related_link`)."""
    from krov.press.models import Story

    return posts.prefetch_related(
        Prefetch("press_stories", queryset=Story.objects.select_related("source").order_by("pk"))
    )


def _related_link(post: Post) -> dict[str, str] | None:
    """The Atom `<link rel="related">` to the press story a bulletin answers (the first, as
    krov.press.services.answered_story picks it), its headline in the feed's script."""
    story = next(iter(post.press_stories.all()), None)
    if story is None or not story.link:
        return None
    language = get_language()
    title = in_page_script(story.title, language, language=story.source.language or None)
    return {"rel": "related", "href": story.link, "title": title}


def _audio_urls(post: Post, recording: Recording) -> dict[str, str]:
    """Absolute addresses of a recording's files (random names: a new upload, new ones)."""
    return {
        kind: links.absolute(reverse("bulletins:audio", args=[post.slug, name.rsplit("/", 1)[-1]]))
        for kind, name in (("opus", recording.opus), ("mp3", recording.mp3))
    }


@public
@require_safe
@cache_public_page("bulletins")
def feed(request: HttpRequest) -> HttpResponse:
    return _feed(request)


# --- the podcast -------------------------------------------------------------------------------

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
# Podcasting 2.0's namespace for <podcast:guid> (a UUIDv5 of the feed's address).
PODCAST_GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
ARTWORK = "bulletins/podcast.png"  # 1400 × 1400 PNG, RGB: Apple's minimum


def _rss_language(code: str) -> str:
    """RSS's language element: "sr-Latn" for Serbian in Latin, the plain code otherwise."""
    return "sr-Latn" if code == "sr-latn" else code


def _itunes_duration(recording: Recording) -> str:
    seconds = recording.duration_seconds
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class PodcastRss(Rss201rev2Feed):
    """RSS 2.0 with the iTunes and Podcasting 2.0 namespaces: what Apple Podcasts and
    Spotify require of a show (title, description, artwork, language, category, explicit)
    and of an episode (title, enclosure with its exact length and type, guid), plus
    itunes:duration and podcast:transcript."""

    content_type = "application/rss+xml; charset=utf-8"

    def rss_attributes(self):
        return {**super().rss_attributes(), "xmlns:itunes": ITUNES, "xmlns:podcast": PODCAST}

    def add_root_elements(self, handler):
        super().add_root_elements(handler)
        feed = self.feed
        explicit = "true" if feed["explicit"] else "false"
        handler.startElement("image", {})
        handler.addQuickElement("url", feed["artwork"])
        handler.addQuickElement("title", feed["title"])
        handler.addQuickElement("link", feed["link"])
        handler.endElement("image")
        handler.addQuickElement("itunes:image", "", {"href": feed["artwork"]})
        handler.addQuickElement("itunes:author", feed["show_author"])
        handler.addQuickElement("itunes:summary", feed["description"])
        handler.startElement("itunes:category", {"text": "News"})
        handler.addQuickElement("itunes:category", "", {"text": "Politics"})
        handler.endElement("itunes:category")
        handler.addQuickElement("itunes:explicit", explicit)
        handler.addQuickElement("itunes:type", "episodic")
        handler.addQuickElement("podcast:guid", feed["podcast_guid"])
        handler.addQuickElement("podcast:locked", "no")
        handler.addQuickElement("podcast:medium", "podcast")

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("itunes:duration", item["duration"])
        handler.addQuickElement("itunes:explicit", "true" if self.feed["explicit"] else "false")
        handler.addQuickElement("itunes:episodeType", "full")
        if item.get("transcript_url"):
            handler.addQuickElement(
                "podcast:transcript",
                "",
                {
                    "url": item["transcript_url"],
                    "type": "text/plain",
                    "language": _rss_language(item["transcript_language"]),
                },
            )


class Podcast(Feed):
    """The audio bulletins as a podcast, one per language (the URL's); cached and refreshed
    like the Atom feed. Episode guids never change (not the address: slugs can)."""

    feed_type = PodcastRss

    def title(self):
        return _("Krov: audio bulletins")

    def link(self):
        return links.absolute(reverse("bulletins:list"))

    def feed_url(self):
        return links.absolute(reverse("bulletins:podcast"))

    def description(self):
        return _("News from the anti-war diaspora, to listen to")

    def get_feed(self, obj, request):
        generator = super().get_feed(obj, request)
        generator.feed["language"] = _rss_language(get_language())
        return generator

    def feed_extra_kwargs(self, obj):
        from django.templatetags.static import static

        address = self.feed_url().split("://", 1)[-1].rstrip("/")
        return {
            "artwork": links.absolute(static(ARTWORK)),
            "explicit": settings.KROV_AUDIO_PODCAST_EXPLICIT,
            "show_author": "Krov",
            "podcast_guid": str(uuid.uuid5(PODCAST_GUID_NAMESPACE, address)),
        }

    def items(self):
        return (
            _posts()
            .published()
            .select_related("recording")
            .filter(recording__status=Recording.Status.READY)
            .exclude(recording__mp3="")[:100]
        )

    def item_title(self, item: Post):
        version = item.version(get_language())
        return version.title if version else item.slug

    def item_description(self, item: Post):
        version = item.version(get_language())
        return (version.summary or version.title) if version else item.slug

    def item_link(self, item: Post):
        return links.absolute(item.get_absolute_url())

    def item_guid(self, item: Post):
        return episode_guid(item)

    item_guid_is_permalink = False

    def item_pubdate(self, item: Post):
        return item.published_at

    def item_enclosures(self, item: Post):
        recording = item.recording
        url = _audio_urls(item, recording)["mp3"]
        return [Enclosure(url, str(recording.mp3_bytes), "audio/mpeg")]

    def item_extra_kwargs(self, item: Post):
        version = item.version(get_language())
        transcript = bool(version and version.transcript)
        return {
            "duration": _itunes_duration(item.recording),
            "transcript_url": links.absolute(reverse("bulletins:transcript", args=[item.slug]))
            if transcript
            else "",
            "transcript_language": version.language if version else "",
        }


def episode_guid(post: Post) -> str:
    """A bulletin's episode id: from what never changes about it (its row and creation)."""
    created = int(post.created_at.timestamp())
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"krov:bulletin:{post.pk}:{created}"))


_podcast = Podcast()


@public
@require_safe
@cache_public_page("bulletins")
def podcast(request: HttpRequest) -> HttpResponse:
    return _podcast(request)


@public
@require_safe
@cache_public_page("bulletins")
def transcript(request: HttpRequest, slug: str) -> HttpResponse:
    """A recording's transcript in the page's language (script), as plain text: what
    podcast apps show beside the episode (podcast:transcript)."""
    post = _visible_post(request, slug)
    version = post.version(get_language())
    if services.playable(post) is None or version is None or not version.transcript:
        raise Http404
    response = HttpResponse(version.transcript + "\n", content_type="text/plain; charset=utf-8")
    response["Content-Language"] = version.language
    return response


@public
@require_safe
def audio_file(request: HttpRequest, slug: str, name: str) -> HttpResponseBase:
    """A recording's Opus or MP3 file, with Range support (a phone seeks in it)."""
    post = _visible_post(request, slug)
    recording = services.playable(post)
    if recording is None:
        raise Http404
    files = {
        recording.opus.rsplit("/", 1)[-1]: (recording.opus, "audio/ogg"),
        recording.mp3.rsplit("/", 1)[-1]: (recording.mp3, "audio/mpeg"),
    }
    if name not in files:
        raise Http404
    stored, content_type = files[name]
    cache_control = (
        "public, max-age=31536000, immutable" if post.is_visible else "private, no-store"
    )
    try:
        return media.ranged_file(
            request, stored, content_type=content_type, cache_control=cache_control
        )
    except FileNotFoundError:
        raise Http404 from None


def _pending_audio_urls(post: Post, pending: PendingRecording) -> dict[str, str]:
    """Addresses of a recording waiting for approval (editors only, never cached)."""
    return {
        kind: reverse("bulletins:pending-audio", args=[post.slug, name.rsplit("/", 1)[-1]])
        for kind, name in (("opus", pending.opus), ("mp3", pending.mp3))
    }


@requires(EDIT)
@require_safe
def pending_audio(request: HttpRequest, slug: str, name: str) -> HttpResponseBase:
    """The Opus or MP3 file of a recording waiting for approval, for the editor who reviews
    it (with Range, like the public files); never public, never cached."""
    post = _editable(slug)
    waiting = services.pending_recording(post)
    if waiting is None or not waiting.is_ready:
        raise Http404
    files = {
        waiting.opus.rsplit("/", 1)[-1]: (waiting.opus, "audio/ogg"),
        waiting.mp3.rsplit("/", 1)[-1]: (waiting.mp3, "audio/mpeg"),
    }
    if name not in files:
        raise Http404
    stored, content_type = files[name]
    try:
        return media.ranged_file(
            request, stored, content_type=content_type, cache_control="private, no-store"
        )
    except FileNotFoundError:
        raise Http404 from None


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


TAGS_PER_PAGE = 50


@requires(EDIT)
@require_http_methods(["GET", "POST"])
def tags(request: HttpRequest) -> HttpResponse:
    """The newsroom's tags, each with its name in the other languages: an editor translates
    a tag here (its address in the tag filter stays). POST: one tag's names; a name that
    is too long, or a tag that is gone, is refused on the page (400, 404)."""
    search = forms.TagSearchForm(request.GET)
    # A search refused (a NUL character, too long) says why beside its field; the page
    # lists every tag meanwhile.
    query = search.cleaned_data["q"] if search.is_valid() else ""
    status = 200 if search.is_valid() else 400
    found = services.find_tags(query)
    page = Paginator(found, TAGS_PER_PAGE).get_page(request.GET.get("page"))
    forms_by_tag = {tag.pk: forms.TagTranslationForm(tag=tag) for tag in page}
    if request.method == "POST":
        slug = forms.tag_slug(request.POST.get("tag"))
        tag = services.with_translations().filter(slug=slug).first() if slug else None
        if tag is None:
            raise Http404
        form = forms.TagTranslationForm(request.POST, tag=tag)
        if form.is_valid():
            try:
                changed = services.translate_tags(
                    tag, actor=_user(request), names=form.cleaned_data
                )
            except services.BulletinError as error:
                form.add_error(None, str(error))
            else:
                if changed:
                    messages.success(request, _("The tag's names are saved."))
                else:
                    messages.info(request, _("Nothing changed."))
                return redirect(request.get_full_path() + f"#tag-{tag.slug}")
        status = 400
        messages.error(request, _("The tag's names were not saved: see the form below."))
        # The refused form in its place on the page, or first when that page is another.
        on_page = {shown.pk: shown for shown in page}
        uses = getattr(on_page.get(tag.pk), "uses", None) or tag.posts.count()
        tag.uses = uses  # type: ignore[attr-defined]
        if tag.pk in forms_by_tag:
            forms_by_tag[tag.pk] = form
        else:
            forms_by_tag = {tag.pk: form, **forms_by_tag}
    context = {
        "page": page,
        "search": search,
        "query": query,
        "forms": list(forms_by_tag.values()),
    }
    response = render(request, "bulletins/tags.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


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
    existing = _existing_text(post, language)
    initial = {"language": language, "tags": ", ".join(t.name for t in post.tags.all())}
    if existing:
        initial.update(
            title=existing.title,
            summary=existing.summary,
            body=existing.body,
            transcript=existing.transcript,
        )
    form = forms.EditVersionForm(
        request.POST if request.method == "POST" else None, initial=initial
    )
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
                    transcript=data["transcript"],
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
    return _edit_page(request, post, language, form=form, status=status)


def _existing_text(post: Post, language: str):
    """What the editor's page shows of `language`: the edit waiting, else the approved text."""
    pending = services.pending_edit(post)
    return pending.get(language) or {v.language: v for v in post.versions.all()}.get(language)


def _edit_page(
    request: HttpRequest,
    post: Post,
    language: str,
    *,
    form: forms.EditVersionForm,
    recording_form: forms.RecordingForm | None = None,
    status: int = 200,
) -> HttpResponse:
    pending = services.pending_edit(post)
    existing = _existing_text(post, language)
    recording = Recording.objects.filter(post=post).first()
    waiting = services.pending_recording(post)
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
        "recording": recording,
        "recording_form": recording_form or forms.RecordingForm(),
        "audio_urls": _audio_urls(post, recording)
        if recording and recording.opus and recording.mp3
        else None,
        "pending_recording": waiting,
        "pending_audio_urls": _pending_audio_urls(post, waiting)
        if waiting and waiting.is_ready
        else None,
        "pending_seen": services.pending_recording_token(waiting) if waiting else "",
        "can_approve_recording": services.may_approve_recording(post, request.user, waiting)
        if waiting
        else False,
        "audio_max_mb": settings.KROV_AUDIO_MAX_BYTES // 2**20,
    }
    response = render(request, "bulletins/edit.html", context, status=status)
    response["Cache-Control"] = "no-store"
    return response


@requires(EDIT)
@require_POST
def recording(request: HttpRequest, slug: str) -> HttpResponse:
    """An editor attaches a recording (or removes it: `remove` in the form). A file that is
    not a recording Krov reads is refused on the page, with the reason (400)."""
    post = _editable(slug)
    language = request.POST.get("language") or post.original_language
    if language not in interface_languages():
        language = post.original_language
    back = reverse("bulletins:edit", args=[post.slug]) + f"?lang={language}"
    if request.POST.get("remove"):
        try:
            waiting = services.remove_recording(post, actor=_user(request))
        except services.BulletinError as error:
            messages.error(request, str(error))
        else:
            if waiting is not None:
                messages.success(
                    request,
                    _(
                        "The removal of the recording waits for a second editor's approval. "
                        "Listeners keep the recording until then."
                    ),
                )
            else:
                messages.success(request, _("The recording is removed."))
        return redirect(back)
    upload_form = forms.RecordingForm(request.POST, request.FILES)
    if upload_form.is_valid():
        try:
            attached = services.attach_recording(
                post, actor=_user(request), upload=upload_form.cleaned_data["recording"]
            )
        except services.BulletinError as error:
            upload_form.add_error("recording", str(error))
        else:
            if isinstance(attached, PendingRecording):
                messages.success(
                    request,
                    _(
                        "Recording received: it is being processed, then waits for a second "
                        "editor's approval. Listeners keep the published recording until then."
                    ),
                )
            else:
                messages.success(
                    request,
                    _("Recording received: it is being processed and appears here when ready."),
                )
            return redirect(back)
    existing = _existing_text(post, language)
    initial = {"language": language, "tags": ", ".join(t.name for t in post.tags.all())}
    if existing:
        initial.update(
            title=existing.title,
            summary=existing.summary,
            body=existing.body,
            transcript=existing.transcript,
        )
    return _edit_page(
        request,
        post,
        language,
        form=forms.EditVersionForm(initial=initial),
        recording_form=upload_form,
        status=400,
    )


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
        elif action == "approve-recording":
            approved = services.approve_recording(
                post, actor=actor, seen=request.POST.get("seen", "")
            )
            if approved is None:
                messages.success(request, _("The removal is approved: the recording is offline."))
            else:
                messages.success(request, _("The new recording is approved and published."))
        elif action == "discard-recording":
            discarded = services.discard_recording(post, actor=actor)
            if discarded is not None and discarded.removal:
                messages.success(request, _("The removal is refused; the recording stays."))
            else:
                messages.success(
                    request, _("The new recording is discarded; the published one stays.")
                )
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
