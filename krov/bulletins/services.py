"""Bulletins: writing, the editorial workflow (draft → in review → published), scheduled
publication, Serbian in both scripts, search, and the channel post on publication."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.bulletins.models import Post, PostRevision, PostVersion, Tag
from krov.core import diff, pagecache
from krov.core import search as site_search
from krov.core.services import interface_languages, serbian_twin, slug_text, unique_slug


class BulletinError(Exception):
    """Something about a bulletin that cannot be done; the message is for people."""


def invalidate() -> None:
    pagecache.invalidate("bulletins")


normalise = site_search.normalise


def with_versions(posts: QuerySet[Post] | None = None) -> QuerySet[Post]:
    """Posts (all, or `posts`) with their author, versions and tags (one query each,
    however many posts)."""
    posts = Post.objects.all() if posts is None else posts
    return posts.select_related("author").prefetch_related(
        Prefetch("versions", queryset=PostVersion.objects.all()), "tags"
    )


def latest_published(limit: int) -> list[Post]:
    """The newest published posts (the home page's)."""
    return list(with_versions(Post.objects.published()).order_by("-published_at")[:limit])


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
    if language not in interface_languages():
        raise BulletinError(_("Unknown language."))
    post = Post.objects.create(
        slug=unique_slug(
            Post, slug or title, fallback="bulletin", max_length=70, language=language
        ),
        original_language=language,
        author=actor,
    )
    write(post, actor=actor, language=language, title=title, summary=summary, body=body)
    set_tags(post, actor=actor, names=tags or [])
    return post


@transaction.atomic
def write(
    post: Post, *, actor, language: str, title: str, body: str, summary: str = ""
) -> PostVersion | PostRevision:
    """Write one language version; Serbian is written once, the other script follows."""
    _require_editor(actor)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise BulletinError(_("A bulletin needs a title and a text."))
    if len(title) > 200 or len(summary) > 400 or len(body) > 100_000:
        raise BulletinError(_("Too long: title 200, summary 400, text 100,000 characters."))
    if language not in interface_languages():
        raise BulletinError(_("Unknown language."))
    fields = {"title": title, "summary": summary.strip(), "body": body}
    # A published bulletin keeps its text until a second editor approves the edit.
    save = _save_revision if post.status == Post.Status.PUBLISHED else _save_version
    version = save(post, language, fields, derived=False, actor=actor)
    twin = serbian_twin(language)
    if twin:
        other, convert = twin
        save(post, other, {k: convert(v) for k, v in fields.items()}, derived=True, actor=actor)
    Post.objects.filter(pk=post.pk).update(updated_at=timezone.now(), last_writer=actor)
    post.last_writer = actor
    return version


def _save_revision(
    post: Post, language: str, fields: dict, *, derived: bool, actor
) -> PostRevision:
    revision, _created = PostRevision.objects.update_or_create(
        post=post,
        language=language,
        defaults={**fields, "derived": derived, "written_by": actor, "written_at": timezone.now()},
    )
    return revision


def _save_version(
    post: Post, language: str, fields: dict, *, derived: bool, actor=None
) -> PostVersion:
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
    language = post.original_language
    for name in names[:10]:
        name = name.strip()[:60]
        slug = slug_text(name, language=language, max_length=40)
        if not slug:
            continue
        # A tag of the same name is the same tag, whatever slug rule made it.
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            tag, _created = Tag.objects.get_or_create(
                slug=slug, defaults={"name": name, "language": language}
            )
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
def approve(
    post: Post, *, actor, publish_at: datetime | None = None, seen: str | None = None
) -> None:
    """A second editor approves; the post is published now or at `publish_at`. `seen` is
    the `fingerprint` of the text they read (the newsroom page always sends it)."""
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    if post.status != Post.Status.REVIEW:
        raise BulletinError(_("Only a bulletin in review can be approved."))
    _require_second_editor(post, actor)
    _require_unchanged(post, seen)
    now = timezone.now()
    when = publish_at if publish_at and publish_at > now else now
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED, published_at=when, approved_by=actor, updated_at=now
    )
    post.status, post.published_at = Post.Status.PUBLISHED, when
    invalidate()
    if when <= now:
        transaction.on_commit(lambda: announce_due())


def fingerprint(post: Post) -> str:
    """What an approver read: every version and pending edit. The approval names it, so a
    change made after the page was opened cannot be approved unseen."""
    import hashlib

    rows: list[PostVersion | PostRevision] = [*post.versions.all(), *post.revisions.all()]
    parts = sorted(
        (type(row).__name__, row.language, row.title, row.summary, row.body) for row in rows
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _require_unchanged(post: Post, seen: str | None) -> None:
    if seen is not None and seen != fingerprint(post):
        raise BulletinError(_("The text changed since you opened it. Read it again, then approve."))


def may_approve(post: Post, actor) -> bool:
    """Someone who may publish and wrote none of it: neither the author nor the last writer."""
    if not can_publish(actor):
        return False
    if settings.KROV_BULLETINS_SELF_APPROVAL:
        return True
    writers = {post.author_id, post.last_writer_id or post.author_id}
    return actor.pk not in writers


def newsroom_waiting(user) -> dict:
    """What waits for an editor, for their home, in one query (after their permissions):
    `drafts`, the drafts they wrote or last wrote; `waiting`, the bulletins they may approve
    (the rules of `may_approve` and `approve_edit`: in review, or with an edit pending, and
    none of it theirs), each counted once whatever its languages; `since`, the oldest of
    those: a bulletin in review since its last change (its submission, or a rewrite), an
    edit since it was written. `waiting` and `since` are None when they may not publish."""
    mine = Q(author=user) | Q(last_writer=user)
    drafts = Q(status=Post.Status.DRAFT) & mine
    if not can_publish(user):
        return {"drafts": Post.objects.filter(drafts).count(), "waiting": None, "since": None}
    in_review = Q(status=Post.Status.REVIEW)
    edited = Q(revisions__isnull=False)  # an edit waits (one row per language)
    if not settings.KROV_BULLETINS_SELF_APPROVAL:
        theirs = PostRevision.objects.filter(post=OuterRef("pk"), written_by=user)
        in_review &= ~Q(author=user) & ~Q(last_writer=user)
        edited &= ~Q(last_writer=user) & ~Q(Exists(theirs))
    found = Post.objects.filter(drafts | in_review | edited).aggregate(
        drafts=Count("pk", filter=drafts, distinct=True),
        waiting=Count("pk", filter=in_review | edited, distinct=True),
        review_since=Min("updated_at", filter=in_review),
        edit_since=Min("revisions__written_at", filter=edited),
    )
    times = [when for when in (found["review_since"], found["edit_since"]) if when]
    return {
        "drafts": found["drafts"],
        "waiting": found["waiting"],
        "since": min(times, default=None),
    }


def _require_second_editor(post: Post, actor) -> None:
    if not may_approve(post, actor):
        raise BulletinError(_("A second editor must approve what you wrote."))


def pending_edit(post: Post) -> dict[str, PostRevision]:
    return {r.language: r for r in post.revisions.all()}


def edit_changes(post: Post) -> dict[str, list[diff.Change]]:
    """For each language with an edit waiting, the edit against the approved text: what the
    second editor approves. Derived versions (the other Serbian script) are left out."""
    approved = {v.language: v for v in post.versions.all()}
    labels = {
        name: getattr(PostRevision._meta.get_field(name), "verbose_name", name)
        for name in _TEXT_FIELDS
    }
    found = {}
    for language, revision in pending_edit(post).items():
        if revision.derived:
            continue
        version = approved.get(language)
        found[language] = diff.changes(
            [
                (
                    str(labels[name]).capitalize(),
                    getattr(version, name) if version else "",
                    getattr(revision, name),
                )
                for name in _TEXT_FIELDS
            ]
        )
    return found


_TEXT_FIELDS = ("title", "summary", "body")


@transaction.atomic
def approve_edit(post: Post, *, actor, seen: str | None = None) -> int:
    """A second editor approves the pending edit of a published bulletin: it goes live."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_unchanged(post, seen)
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    revisions = list(post.revisions.all())
    if not revisions:
        raise BulletinError(_("There is no edit waiting for approval."))
    if not settings.KROV_BULLETINS_SELF_APPROVAL and actor.pk in {
        post.last_writer_id,
        *(r.written_by_id for r in revisions),
    }:
        raise BulletinError(_("A second editor must approve what you wrote."))
    for revision in revisions:
        fields = {"title": revision.title, "summary": revision.summary, "body": revision.body}
        _save_version(post, revision.language, fields, derived=revision.derived)
    PostRevision.objects.filter(pk__in=[r.pk for r in revisions]).delete()
    Post.objects.filter(pk=post.pk).update(approved_by=actor, updated_at=timezone.now())
    transaction.on_commit(invalidate)
    return len(revisions)


@transaction.atomic
def discard_edit(post: Post, *, actor) -> None:
    _require_editor(actor)
    PostRevision.objects.filter(post=post).delete()


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


def search_page(query: str) -> list[PostVersion]:
    """The site search's bulletins: each post once, in the page's language or script
    (krov.core.search.one_per), at most 500 versions looked at."""
    return site_search.one_per(search(query)[:500], "post_id", original="post.original_language")


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
