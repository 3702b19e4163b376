"""Bulletins: writing, the editorial workflow (draft → in review → published), scheduled
publication, Serbian in both scripts, search, and the channel post on publication."""

from __future__ import annotations

import secrets
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from krov.bulletins.models import Post, PostVersion, Tag
from krov.core import pagecache
from krov.core import search as site_search
from krov.core.services import to_cyrillic, to_latin

LANGUAGES = [code for code, _name in settings.LANGUAGES]


class BulletinError(Exception):
    """Something about a bulletin that cannot be done; the message is for people."""


def invalidate() -> None:
    pagecache.invalidate("bulletins")


normalise = site_search.normalise


def can_edit(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("accounts.edit_bulletins"))


def can_publish(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("accounts.publish_bulletins"))


def _require_editor(user) -> None:
    if not can_edit(user):
        raise BulletinError(_("Only editors can do this."))


@transaction.atomic
def create_post(
    *,
    actor,
    language: str,
    title: str,
    body: str,
    summary: str = "",
    tags: list[str] | None = None,
    slug: str = "",
) -> Post:
    _require_editor(actor)
    if language not in LANGUAGES:
        raise BulletinError(_("Unknown language."))
    base = slugify(to_latin(slug or title))[:70] or "bulletin"
    candidate = base
    while Post.objects.filter(slug=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(2)}"
    post = Post.objects.create(slug=candidate, original_language=language, author=actor)
    write(post, actor=actor, language=language, title=title, summary=summary, body=body)
    set_tags(post, actor=actor, names=tags or [])
    return post


@transaction.atomic
def write(
    post: Post, *, actor, language: str, title: str, body: str, summary: str = ""
) -> PostVersion:
    """Write one language version; Serbian is written once, the other script follows."""
    _require_editor(actor)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise BulletinError(_("A bulletin needs a title and a text."))
    if len(title) > 200 or len(summary) > 400 or len(body) > 100_000:
        raise BulletinError(_("Too long: title 200, summary 400, text 100,000 characters."))
    if language not in LANGUAGES:
        raise BulletinError(_("Unknown language."))
    fields = {"title": title, "summary": summary.strip(), "body": body}
    version = _save_version(post, language, fields, derived=False)
    twin = {"sr": ("sr-latn", to_latin), "sr-latn": ("sr", to_cyrillic)}.get(language)
    if twin:
        other, convert = twin
        _save_version(post, other, {k: convert(v) for k, v in fields.items()}, derived=True)
    Post.objects.filter(pk=post.pk).update(updated_at=timezone.now())
    if post.is_visible:
        invalidate()
    return version


def _save_version(post: Post, language: str, fields: dict, *, derived: bool) -> PostVersion:
    search = normalise(" ".join([fields["title"], fields["summary"], fields["body"]]))
    version, _created = PostVersion.objects.update_or_create(
        post=post,
        language=language,
        defaults={
            **fields,
            "derived": derived,
            "search_text": search,
            "updated_at": timezone.now(),
        },
    )
    return version


@transaction.atomic
def set_tags(post: Post, *, actor, names: list[str]) -> None:
    _require_editor(actor)
    tags = []
    for name in names[:10]:
        name = name.strip()[:60]
        slug = slugify(to_latin(name))[:40]
        if slug:
            tag, _created = Tag.objects.get_or_create(slug=slug, defaults={"name": name})
            tags.append(tag)
    post.tags.set(tags)


@transaction.atomic
def submit(post: Post, *, actor) -> None:
    _require_editor(actor)
    if post.status != Post.Status.DRAFT:
        raise BulletinError(_("Only a draft can be submitted for review."))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.REVIEW, updated_at=timezone.now())
    post.status = Post.Status.REVIEW


@transaction.atomic
def approve(post: Post, *, actor, publish_at: datetime | None = None) -> None:
    """A second editor approves; the post is published now or at `publish_at`."""
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    if post.status != Post.Status.REVIEW:
        raise BulletinError(_("Only a bulletin in review can be approved."))
    if post.author_id == actor.pk and not settings.KROV_BULLETINS_SELF_APPROVAL:
        raise BulletinError(_("A second editor must approve what you wrote."))
    now = timezone.now()
    when = publish_at if publish_at and publish_at > now else now
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED, published_at=when, approved_by=actor, updated_at=now
    )
    post.status, post.published_at = Post.Status.PUBLISHED, when
    invalidate()
    if when <= now:
        transaction.on_commit(lambda: announce_due())


@transaction.atomic
def send_back(post: Post, *, actor) -> None:
    """Back to draft (from review, or unpublish)."""
    if not can_publish(actor) and not (post.author_id == actor.pk and can_edit(actor)):
        raise BulletinError(_("Only editors can do this."))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT, updated_at=timezone.now())
    post.status = Post.Status.DRAFT
    invalidate()


def announce_due(now: datetime | None = None) -> int:
    """Queue a channel post for every bulletin that has become visible and was not announced
    (at approval, or when a scheduled time passes: a periodic task calls this)."""
    from krov.telegram import services as telegram

    now = now or timezone.now()
    due = Post.objects.published().filter(announced_at__isnull=True).prefetch_related("versions")
    count = 0
    for post in due:
        if not Post.objects.filter(pk=post.pk, announced_at__isnull=True).update(announced_at=now):
            continue
        version = post.version(post.original_language)
        url = (
            settings.KROV_SITE_URL.rstrip("/") + f"/{post.original_language}/bulletins/{post.slug}/"
        )
        telegram.post_to_channel(
            title=version.title if version else post.slug,
            text=version.summary if version else "",
            url=url,
        )
        count += 1
    if count:
        invalidate()
    return count


def set_cover(post: Post, *, actor, upload) -> str:
    from krov.core import images

    _require_editor(actor)
    try:
        data = images.normalise(upload)
    except images.PictureError as error:
        raise BulletinError(str(error)) from None
    name = images.store(data, prefix=f"bulletins/{post.pk}", replaces=post.cover)
    Post.objects.filter(pk=post.pk).update(cover=name, updated_at=timezone.now())
    invalidate()
    return name


# --- search -----------------------------------------------------------------------------------


def search(query: str, *, language: str | None = None) -> QuerySet[PostVersion]:
    """Published versions matching `query` in either Serbian script (krov.core.search)."""
    versions = PostVersion.objects.filter(
        post__status=Post.Status.PUBLISHED, post__published_at__lte=timezone.now()
    ).select_related("post")
    if language:
        versions = versions.filter(language=language)
    if not site_search.words(query):
        return versions.none()
    found = site_search.match(versions, "search_text", query)
    if connection.vendor == "postgresql":
        return found.order_by("-rank", "-post__published_at")
    return found.order_by("-post__published_at")
