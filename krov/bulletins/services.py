"""Bulletins: writing, the editorial workflow (draft → in review → published), scheduled
publication, Serbian in both scripts, search, and the channel post on publication."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, Min, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.bulletins.models import (
    PendingRecording,
    Post,
    PostRevision,
    PostVersion,
    Recording,
    RecordingFiles,
    Tag,
    TagTranslation,
)
from krov.core import diff, pagecache, translated
from krov.core import search as site_search
from krov.core.search import searched
from krov.core.services import interface_languages, serbian_twin, slug_text, unique_slug

log = logging.getLogger(__name__)


class BulletinError(Exception):
    """Something about a bulletin that cannot be done; the message is for people."""


class AuditKind:
    """The bulletins' kinds of audit event (krov.core.audit): the editorial workflow, the
    second editor's decisions on edits and recordings, unpublishing, and the names tags
    have in other languages. Their labels for the audit log page belong with the others in
    `AuditEvent.Kind` (krov.core.models)."""

    SUBMITTED = "bulletin_submitted"
    APPROVED = "bulletin_approved"
    SENT_BACK = "bulletin_sent_back"
    UNPUBLISHED = "bulletin_unpublished"
    EDIT_APPROVED = "bulletin_edit_approved"
    EDIT_DISCARDED = "bulletin_edit_discarded"
    RECORDING_APPROVED = "bulletin_recording_approved"
    RECORDING_DISCARDED = "bulletin_recording_discarded"
    REMOVAL_REQUESTED = "bulletin_removal_requested"
    RECORDING_REMOVED = "bulletin_recording_removed"
    REMOVAL_DISCARDED = "bulletin_removal_discarded"
    TAG_TRANSLATION_ADDED = "tag_translation_added"
    TAG_TRANSLATION_CHANGED = "tag_translation_changed"
    TAG_TRANSLATION_REMOVED = "tag_translation_removed"


def _audit(kind: str, post: Post, *, actor, **detail) -> None:
    """An audit event about `post` (its id as the target, its address name as a detail),
    written in the caller's transaction: a rolled-back action leaves none."""
    from krov.core import audit

    audit.record(kind, actor=actor, target=f"bulletin:{post.pk}", bulletin=post.slug, **detail)


def _tag_audit(kind: str, tag: Tag, *, actor, **detail) -> None:
    """An audit event about `tag` (its id as the target, its own name as a detail, as the
    events app names a venue), written in the caller's transaction: a rolled-back change
    leaves none. Which language and which texts changed, never what they say."""
    from krov.core import audit

    audit.record(kind, actor=actor, target=f"tag:{tag.pk}", tag=tag.name, **detail)


def invalidate() -> None:
    pagecache.invalidate("bulletins")


normalise = site_search.normalise


def with_versions(posts: QuerySet[Post] | None = None) -> QuerySet[Post]:
    """Posts (all, or `posts`) with their author, versions and tags (one query each,
    however many posts)."""
    posts = Post.objects.all() if posts is None else posts
    return posts.select_related("author").prefetch_related(
        Prefetch("versions", queryset=PostVersion.objects.all()),
        Prefetch("tags", queryset=with_translations()),
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
    transcript: str | None = None,
) -> Post:
    _require_editor(actor)
    if language not in interface_languages():
        raise BulletinError(_("Unknown language."))
    post = Post.objects.create(
        slug=unique_slug(
            Post,
            slug or title,
            fallback="bulletin",
            max_length=70,
            language=language,
            routes=("bulletins:detail", "bulletins:edit"),
        ),
        original_language=language,
        author=actor,
    )
    write(
        post,
        actor=actor,
        language=language,
        title=title,
        summary=summary,
        body=body,
        transcript=transcript,
    )
    set_tags(post, actor=actor, names=tags or [])
    return post


@transaction.atomic
def write(
    post: Post,
    *,
    actor,
    language: str,
    title: str,
    body: str,
    summary: str = "",
    transcript: str | None = None,
) -> PostVersion | PostRevision:
    """Write one language version; Serbian is written once, the other script follows.
    `transcript` (what the recording says in this language) None keeps the one there is."""
    _require_editor(actor)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise BulletinError(_("A bulletin needs a title and a text."))
    if len(title) > 200 or len(summary) > 400 or len(body) > 100_000:
        raise BulletinError(_("Too long: title 200, summary 400, text 100,000 characters."))
    if language not in interface_languages():
        raise BulletinError(_("Unknown language."))
    if transcript is None:
        current = (
            pending_edit(post).get(language) or post.versions.filter(language=language).first()
        )
        transcript = current.transcript if current else ""
    transcript = transcript.strip()
    if len(transcript) > 200_000:
        raise BulletinError(_("The transcript is too long: 200,000 characters at most."))
    fields = {"title": title, "summary": summary.strip(), "body": body, "transcript": transcript}
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
    search = normalise(
        " ".join([fields["title"], fields["summary"], fields["body"], fields.get("transcript", "")])
    )
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


# --- tags ---------------------------------------------------------------------------------------


def with_translations(tags: QuerySet[Tag] | None = None) -> QuerySet[Tag]:
    """Tags (all, or `tags`) with their translations (one query more, however many)."""
    tags = Tag.objects.all() if tags is None else tags
    return tags.prefetch_related(Prefetch("translations", queryset=TagTranslation.objects.all()))


def tag_search_text(name: str, translations: Iterable[str]) -> str:
    """What `Tag.search_text` holds for a tag called `name` with the translated names
    `translations`: each name as Krov's search compares text (`searched`: Serbian Cyrillic
    as Latin, case folded, each run of white space one space), one a line. A query goes
    through `searched` too, which leaves no line break in it: a match never runs from one
    name into the next."""
    return "\n".join(searched(text) for text in [name, *translations])


def _refresh_tag_search(tag: Tag) -> None:
    """Write `tag`'s search column from its names as stored now (its translations by
    language); called by every service that changes them."""
    names = TagTranslation.objects.filter(tag=tag).order_by("language").values_list("name")
    text = tag_search_text(tag.name, [name for (name,) in names])
    Tag.objects.filter(pk=tag.pk).update(search_text=text)
    tag.search_text = text


def find_tags(query: str = "") -> QuerySet[Tag]:
    """The tags page's tags, by name, each with its translations and how many bulletins
    use it (`uses`): all of them, or those one of whose names (its own or a translation)
    contains `query` in either Serbian script and any case. Compared in the database, in
    the search column (`tag_search_text`): the same queries however many tags there are;
    LIKE's wildcards in `query` match only themselves."""
    found = with_translations().annotate(uses=Count("posts", distinct=True)).order_by("name", "pk")
    wanted = searched(query)
    return found.filter(search_text__contains=wanted) if wanted else found


def tag_name(tag: Tag, language: str | None = None) -> translated.Shown:
    """A tag's name as a page in `language` (default: the active one) shows it: its
    translation, else its own name, Serbian in the page's script (krov.core.translated).
    Reads prefetched translations (`with_translations`, `with_versions`)."""
    texts = {row.language: row.name for row in tag.translations.all()}
    return translated.pick(tag.name, tag.language, texts, language)


def used_tags(language: str | None = None) -> list[Tag]:
    """The tags of at least one published bulletin, by their name as the page shows it
    (the bulletins list's tag filter); two queries however many."""
    tags = with_translations(Tag.objects.filter(posts__in=Post.objects.published()).distinct())
    return sorted(tags, key=lambda tag: tag_name(tag, language).text.casefold())


def check_tag_translation(tag: Tag, language: str) -> None:
    """Raise BulletinError unless `tag` may have a name in `language`: one of the site's
    languages, Serbian as "sr" (Latin is derived), not the tag's own."""
    if language not in dict(translated.translatable_languages()):
        raise BulletinError(_("Unknown language."))
    if tag.language and translated.same_language(language, tag.language):
        raise BulletinError(_("The tag is written in this language already: its own name is used."))


@transaction.atomic
def translate_tags(tag: Tag, *, actor, names: dict[str, str]) -> int:
    """Set `tag`'s names in other languages at once ({language: name}; an empty name
    removes that translation). The tag's own name and slug (its filter address) stay.
    Nothing is saved when one language is refused (BulletinError). Each language added,
    changed or removed is one audit event (`AuditKind.TAG_TRANSLATION_*`: the language
    and, for a change, which texts; never what they say). Public pages showing tags are
    refreshed once this commits. Returns how many changed.

    The one way tag translations are written: the tags page and the demo call it."""
    _require_editor(actor)
    # The tag's row first, as for venues: two first saves of one language at once must not
    # both insert (a 500 from the unique constraint); the second waits and finds the row.
    locked = Tag.objects.select_for_update().filter(pk=tag.pk).first()
    if locked is None:
        raise BulletinError(_("This tag is no longer there."))
    rows = TagTranslation.objects.select_for_update().filter(tag=tag)
    current = {row.language: row for row in rows}
    changed = 0
    for language, name in names.items():
        check_tag_translation(tag, language)
        name = " ".join(name.split())
        if len(name) > 60:
            raise BulletinError(_("A tag's name has at most 60 characters."))
        row = current.get(language)
        if not name:
            if row is not None:
                row.delete()
                _tag_audit(
                    AuditKind.TAG_TRANSLATION_REMOVED, locked, actor=actor, language=language
                )
                changed += 1
        elif row is None:
            TagTranslation.objects.create(tag=tag, language=language, name=name)
            _tag_audit(AuditKind.TAG_TRANSLATION_ADDED, locked, actor=actor, language=language)
            changed += 1
        elif row.name != name:
            row.name = name
            row.save(update_fields=["name"])
            _tag_audit(
                AuditKind.TAG_TRANSLATION_CHANGED,
                locked,
                actor=actor,
                language=language,
                fields=["name"],
            )
            changed += 1
    if changed:
        _refresh_tag_search(locked)
        tag.search_text = locked.search_text
        invalidate()
    return changed


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
        # A tag of the same name is the same tag, whatever slug rule made it; so is a tag
        # one of whose translations has this name ("war" for "rat").
        tag = Tag.objects.filter(name=name).first()
        if tag is None:
            row = TagTranslation.objects.select_related("tag").filter(name=name).first()
            tag = row.tag if row is not None else None
        if tag is None:
            tag, _created = Tag.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "language": language,
                    "search_text": tag_search_text(name, []),
                },
            )
        tags.append(tag)
    post.tags.set(tags)
    if post.status == Post.Status.PUBLISHED:
        invalidate()


@transaction.atomic
def submit(post: Post, *, actor) -> None:
    _require_editor(actor)
    current = _locked_status(post)
    if current != Post.Status.DRAFT:
        raise BulletinError(_("Only a draft can be submitted for review."))
    Post.objects.filter(pk=post.pk).update(status=Post.Status.REVIEW, updated_at=timezone.now())
    post.status = Post.Status.REVIEW
    _audit(AuditKind.SUBMITTED, post, actor=actor)


def _locked_status(post: Post) -> str:
    """The status `post` has in the database, its row locked until the transaction ends
    (the instance a view holds may be older than a colleague's click)."""
    status = Post.objects.select_for_update().filter(pk=post.pk).values_list("status", flat=True)
    found = status.first()
    if found is None:
        raise BulletinError(_("This bulletin is no longer there."))
    return found


@transaction.atomic
def approve(
    post: Post, *, actor, publish_at: datetime | None = None, seen: str | None = None
) -> None:
    """A second editor approves; the post is published now or at `publish_at`. `seen` is
    the `fingerprint` of the text they read (the newsroom page always sends it)."""
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    if _locked_status(post) != Post.Status.REVIEW:
        raise BulletinError(_("Only a bulletin in review can be approved."))
    _require_second_editor(post, actor)
    _require_unchanged(post, seen)
    now = timezone.now()
    when = publish_at if publish_at and publish_at > now else now
    Post.objects.filter(pk=post.pk).update(
        status=Post.Status.PUBLISHED, published_at=when, approved_by=actor, updated_at=now
    )
    post.status, post.published_at = Post.Status.PUBLISHED, when
    scheduled = {"scheduled_for": when.isoformat()} if when > now else {}
    _audit(AuditKind.APPROVED, post, actor=actor, **scheduled)
    invalidate()
    if when <= now:
        transaction.on_commit(lambda: announce_due())


def fingerprint(post: Post) -> str:
    """What an approver read and heard: every version and pending edit, and which upload
    the recording is (its upload time: processing does not change it). The approval names
    it, so a change made after the page was opened cannot be approved unseen.

    Two parts, "<text>.<sound>", so a refusal can say which of them changed."""
    import hashlib

    rows: list[PostVersion | PostRevision] = [*post.versions.all(), *post.revisions.all()]
    text: list[tuple] = sorted(
        (type(row).__name__, row.language, row.title, row.summary, row.body, row.transcript)
        for row in rows
    )
    uploaded = Recording.objects.filter(post=post).values_list("uploaded_at", flat=True).first()
    sound = ("Recording", uploaded.isoformat() if uploaded else "")
    text_hash = hashlib.sha256(repr(text).encode()).hexdigest()[:24]
    sound_hash = hashlib.sha256(repr(sound).encode()).hexdigest()[:12]
    return f"{text_hash}.{sound_hash}"


def _require_unchanged(post: Post, seen: str | None) -> None:
    if seen is None:
        return
    current = fingerprint(post)
    if seen == current:
        return
    seen_text, dot, seen_sound = seen.partition(".")
    text, _dot, sound = current.partition(".")
    if dot and seen_text == text:
        raise BulletinError(
            _("The recording changed since you opened the page. Listen to it again, then approve.")
        )
    if dot and seen_sound != sound:
        raise BulletinError(
            _(
                "The text and the recording changed since you opened the page. Read and listen "
                "again, then approve."
            )
        )
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
    (the rules of `may_approve`, `approve_edit` and `may_approve_recording`: in review,
    with an edit pending, or with a processed recording waiting, and none of it theirs),
    each counted once whatever its languages; `since`, the oldest of those: a bulletin in
    review since its last change (its submission, or a rewrite), an edit since it was
    written, a recording since it was uploaded. `waiting` and `since` are None when they may
    not publish."""
    mine = Q(author=user) | Q(last_writer=user)
    drafts = Q(status=Post.Status.DRAFT) & mine
    if not can_publish(user):
        return {"drafts": Post.objects.filter(drafts).count(), "waiting": None, "since": None}
    in_review = Q(status=Post.Status.REVIEW)
    edited = Q(revisions__isnull=False)  # an edit waits (one row per language)
    # A new or replacing recording waits, processed (the reviewer listens to it first).
    sound = Q(pending_recording__status=PendingRecording.Status.READY)
    if not settings.KROV_BULLETINS_SELF_APPROVAL:
        theirs = PostRevision.objects.filter(post=OuterRef("pk"), written_by=user)
        in_review &= ~Q(author=user) & ~Q(last_writer=user)
        edited &= ~Q(last_writer=user) & ~Q(Exists(theirs))
        sound &= ~Q(pending_recording__uploaded_by=user)
    found = Post.objects.filter(drafts | in_review | edited | sound).aggregate(
        drafts=Count("pk", filter=drafts, distinct=True),
        waiting=Count("pk", filter=in_review | edited | sound, distinct=True),
        review_since=Min("updated_at", filter=in_review),
        edit_since=Min("revisions__written_at", filter=edited),
        sound_since=Min("pending_recording__uploaded_at", filter=sound),
    )
    times = [
        when for when in (found["review_since"], found["edit_since"], found["sound_since"]) if when
    ]
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


_TEXT_FIELDS = ("title", "summary", "body", "transcript")


@transaction.atomic
def approve_edit(post: Post, *, actor, seen: str | None = None) -> int:
    """A second editor approves the pending edit of a published bulletin: it goes live."""
    post = Post.objects.select_for_update().get(pk=post.pk)
    _require_unchanged(post, seen)
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    revisions = list(post.revisions.select_related("written_by"))
    if not revisions:
        raise BulletinError(_("There is no edit waiting for approval."))
    if not settings.KROV_BULLETINS_SELF_APPROVAL and actor.pk in {
        post.last_writer_id,
        *(r.written_by_id for r in revisions),
    }:
        raise BulletinError(_("A second editor must approve what you wrote."))
    for revision in revisions:
        fields = {name: getattr(revision, name) for name in _TEXT_FIELDS}
        _save_version(post, revision.language, fields, derived=revision.derived)
    PostRevision.objects.filter(pk__in=[r.pk for r in revisions]).delete()
    Post.objects.filter(pk=post.pk).update(approved_by=actor, updated_at=timezone.now())
    _audit(
        AuditKind.EDIT_APPROVED,
        post,
        actor=actor,
        languages=_written_languages(revisions),
        written_by=_pseudonyms(r.written_by for r in revisions),
    )
    transaction.on_commit(invalidate)
    return len(revisions)


def _written_languages(revisions: list[PostRevision]) -> list[str]:
    """The languages an edit was written in (not the other Serbian script, derived)."""
    return sorted({r.language for r in revisions if not r.derived})


def _pseudonyms(users) -> list[str]:
    return sorted({user.pseudonym for user in users if user is not None})


def _pseudonym(user) -> str:
    """Who, for an audit detail ("" for an account deleted since)."""
    return user.pseudonym if user is not None else ""


@transaction.atomic
def discard_edit(post: Post, *, actor) -> None:
    _require_editor(actor)
    revisions = list(
        PostRevision.objects.select_for_update(of=("self",))
        .filter(post=post)
        .select_related("written_by")
    )
    if not revisions:
        return
    PostRevision.objects.filter(pk__in=[r.pk for r in revisions]).delete()
    _audit(
        AuditKind.EDIT_DISCARDED,
        post,
        actor=actor,
        languages=_written_languages(revisions),
        written_by=_pseudonyms(r.written_by for r in revisions),
    )


@transaction.atomic
def send_back(post: Post, *, actor) -> None:
    """Back to draft (from review, or unpublish)."""
    if not can_publish(actor) and not (post.author_id == actor.pk and can_edit(actor)):
        raise BulletinError(_("Only editors can do this."))
    before = _locked_status(post)
    Post.objects.filter(pk=post.pk).update(status=Post.Status.DRAFT, updated_at=timezone.now())
    post.status = Post.Status.DRAFT
    if before == Post.Status.PUBLISHED:
        _audit(AuditKind.UNPUBLISHED, post, actor=actor)
    elif before == Post.Status.REVIEW:
        _audit(AuditKind.SENT_BACK, post, actor=actor)
    invalidate()


def announce_due(now: datetime | None = None) -> int:
    """Queue a channel post for every bulletin that has become visible and was not announced
    (at approval, or when a scheduled time passes: a periodic task calls this). A bulletin
    whose recording is still being processed waits for it (`process_recording` calls this
    again); one with a recording goes out as audio."""
    now = now or timezone.now()
    busy = [Recording.Status.PENDING, Recording.Status.PROCESSING]
    due = (
        Post.objects.published()
        .filter(announced_at__isnull=True)
        .exclude(recording__status__in=busy)
        .select_related("recording")
        .prefetch_related("versions")
    )
    count = 0
    for post in due:
        if not Post.objects.filter(pk=post.pk, announced_at__isnull=True).update(announced_at=now):
            continue
        recording = getattr(post, "recording", None)
        if recording is not None and recording.is_ready:
            _announce_audio(post, recording, now=now)
        else:
            _announce_text(post)
        count += 1
    if count:
        invalidate()
    return count


def _channel_words(post: Post) -> tuple[str, str, str]:
    """(title, summary, public address) of a post in its original language."""
    version = post.version(post.original_language)
    url = settings.KROV_SITE_URL.rstrip("/") + f"/{post.original_language}/bulletins/{post.slug}/"
    return (version.title if version else post.slug, version.summary if version else "", url)


def _announce_text(post: Post) -> None:
    from krov.telegram import services as telegram

    title, summary, url = _channel_words(post)
    telegram.post_to_channel(title=title, text=summary, url=url)


# Telegram's limit for a caption (characters, after entity parsing).
CAPTION_LIMIT = 1024


def _announce_audio(post: Post, recording: Recording, *, now: datetime) -> None:
    """The recording to the channel as audio (sendAudio, the MP3 uploaded from storage by
    krov.telegram.client), or as a text post with the link when it is larger than Telegram
    takes. Through the Telegram outbox, like every channel post."""
    import html

    from krov.telegram import outbox

    Recording.objects.filter(pk=recording.pk).update(announced_at=now)
    channel = settings.TELEGRAM_CHANNEL_ID
    if not channel:
        return
    if recording.mp3_bytes > settings.KROV_AUDIO_TELEGRAM_MAX_BYTES:
        _announce_text(post)
        return
    title, summary, url = _channel_words(post)
    link = f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'
    head = f"<b>{html.escape(title)}</b>"
    room = CAPTION_LIMIT - len(title) - len(url) - 8
    if summary and room > 20:
        short = summary if len(summary) <= room else summary[: room - 1].rstrip() + "…"
        caption = f"{head}\n\n{html.escape(short)}\n\n{link}"
    else:
        caption = f"{head}\n\n{link}"
    params = {
        "audio": f"{MEDIA_REFERENCE}{recording.mp3}",
        "caption": caption,
        "parse_mode": "HTML",
        "title": title[:64],
        "performer": "Krov",
        "duration": recording.duration_seconds,
    }
    outbox.enqueue("send_audio", params, channel=channel)


# How an outbound Telegram row names a file of Krov's storage (krov.telegram.client).
MEDIA_REFERENCE = "krov-media:"


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


# --- recordings -------------------------------------------------------------------------------

AUDIO_PREFIX = "bulletins/audio/"


def attach_recording(post: Post, *, actor, upload) -> Recording | PendingRecording:
    """An editor's recording for `post`: checked now (size, format, that it decodes), stored
    as it came, and processed by the worker once this commits.

    Before publication it is the bulletin's recording (the approval of the bulletin covers
    it; its uploader becomes the last writer, so someone else approves). A new or replacing
    recording of a published bulletin is a `PendingRecording`: listeners keep what they had
    until a second editor approves it (`approve_recording`)."""
    import secrets

    from django.core.files.storage import default_storage

    from krov.bulletins import audio

    _require_editor(actor)
    limit = settings.KROV_AUDIO_MAX_BYTES
    if upload.size > limit:
        raise BulletinError(
            _("The recording is too large: %(limit)s MB at most.") % {"limit": limit // 2**20}
        )
    try:
        upload.seek(0)
        audio.check(upload)
    except audio.AudioError as error:
        raise BulletinError(_(str(error))) from None
    finally:
        upload.seek(0)
    # The upload's own name is never used (it may say who or where).
    name = default_storage.save(f"{AUDIO_PREFIX}{secrets.token_hex(12)}.upload", upload)
    try:
        with transaction.atomic():
            locked = Post.objects.select_for_update().get(pk=post.pk)
            if locked.status == Post.Status.PUBLISHED:
                return _attach_pending(locked, actor=actor, name=name)
            return _attach_now(locked, actor=actor, name=name)
    except BaseException:
        default_storage.delete(name)
        raise


def _fresh_upload(row: RecordingFiles, *, actor, name: str) -> list[str]:
    """`row` set to wait for processing of the upload `name`; answers the files to delete
    once this commits: an earlier upload not processed yet and, for a recording waiting for
    approval, its files too (replaced before anyone approved them). A bulletin's recording
    keeps its files until the new ones are made (`_process` replaces them)."""
    old = [row.original]
    row.original, row.error, row.status = name, "", RecordingFiles.Status.PENDING
    row.uploaded_by, row.uploaded_at = actor, timezone.now()
    fields = ["original", "status", "error", "uploaded_by", "uploaded_at"]
    if isinstance(row, PendingRecording):
        old += [row.opus, row.mp3]
        row.opus, row.mp3, row.opus_bytes, row.mp3_bytes, row.duration_ms = "", "", 0, 0, 0
        row.loudness_in = row.loudness_out = row.processed_at = None
        row.removal = False  # a removal waiting is superseded by the new recording
        fields += ["opus", "mp3", "opus_bytes", "mp3_bytes", "duration_ms"]
        fields += ["loudness_in", "loudness_out", "processed_at", "removal"]
    row.save(update_fields=fields)
    return old


def _attach_now(post: Post, *, actor, name: str) -> Recording:
    recording, created = Recording.objects.select_for_update().get_or_create(
        post=post, defaults={"original": name, "uploaded_by": actor}
    )
    replaced = [] if created else _fresh_upload(recording, actor=actor, name=name)
    # A recording (or removal) waiting from when the bulletin was published is superseded
    # by this one; its files go after the commit (krov.bulletins.signals).
    waiting = PendingRecording.objects.filter(post=post).first()
    if waiting is not None:
        waiting.delete()
    # Whoever made the sound may not approve it (services.may_approve).
    Post.objects.filter(pk=post.pk).update(updated_at=timezone.now(), last_writer=actor)
    post.last_writer = actor
    delete_files_on_commit(replaced)
    transaction.on_commit(lambda: _queue_processing(recording.pk))
    return recording


def _attach_pending(post: Post, *, actor, name: str) -> PendingRecording:
    pending, created = PendingRecording.objects.select_for_update().get_or_create(
        post=post, defaults={"original": name, "uploaded_by": actor}
    )
    replaced = [] if created else _fresh_upload(pending, actor=actor, name=name)
    Post.objects.filter(pk=post.pk).update(updated_at=timezone.now())
    delete_files_on_commit(replaced)
    transaction.on_commit(lambda: _queue_processing(pending.pk, pending=True))
    return pending


def _queue_processing(recording_id: int, *, pending: bool = False) -> None:
    from krov.bulletins import tasks

    if pending:
        tasks.process_pending_recording(recording_id)
    else:
        tasks.process_recording(recording_id)


def delete_files_on_commit(names: list[str]) -> None:
    """Delete these stored recording files once the transaction commits (now, outside
    one); a rollback keeps them. Names outside the recordings' folder are never touched."""
    from django.core.files.storage import default_storage

    def delete() -> None:
        for name in names:
            if name and name.startswith(AUDIO_PREFIX):
                default_storage.delete(name)

    transaction.on_commit(delete)


def _transcode(original: str):
    """The Opus and MP3 files of the stored upload `original`, saved under new random
    names: (opus name, mp3 name, (opus bytes, mp3 bytes), audio.Result). Raises
    audio.AudioError (or OSError) when it cannot be done."""
    import secrets
    import tempfile
    from pathlib import Path

    from django.core.files import File
    from django.core.files.storage import default_storage

    from krov.bulletins import audio

    with tempfile.TemporaryDirectory(prefix="krov-audio-") as folder:
        source = Path(folder) / "upload"
        with default_storage.open(original, "rb") as stored, source.open("wb") as copy:
            for chunk in iter(lambda: stored.read(1 << 20), b""):
                copy.write(chunk)
        opus, mp3 = Path(folder) / "out.opus", Path(folder) / "out.mp3"
        result = audio.transcode(source, opus=opus, mp3=mp3)
        stem = f"{AUDIO_PREFIX}{secrets.token_hex(12)}"
        with opus.open("rb") as handle:
            opus_name = default_storage.save(stem + ".opus", File(handle))
        with mp3.open("rb") as handle:
            mp3_name = default_storage.save(stem + ".mp3", File(handle))
        return opus_name, mp3_name, (opus.stat().st_size, mp3.stat().st_size), result


def _process(model: type[Recording] | type[PendingRecording], recording_id: int) -> bool | None:
    """Claim, transcode and store one waiting row of `model`. Answers None when there was
    nothing to claim, False when it failed or was replaced meanwhile, True when ready."""
    from django.core.files.storage import default_storage

    from krov.bulletins import audio

    claimed = model.objects.filter(pk=recording_id, status=model.Status.PENDING).update(
        status=model.Status.PROCESSING, processed_at=timezone.now()
    )
    if not claimed:
        return None
    original = model.objects.get(pk=recording_id).original
    try:
        opus_name, mp3_name, sizes, result = _transcode(original)
    except (audio.AudioError, OSError) as error:
        message = str(error) if isinstance(error, audio.AudioError) else audio.BROKEN
        model.objects.filter(pk=recording_id, original=original).update(
            status=model.Status.FAILED, error=message[:300], original=""
        )
        default_storage.delete(original)
        log.info("recording %s could not be processed", recording_id)
        return False
    with transaction.atomic():
        current = model.objects.select_for_update().filter(pk=recording_id).first()
        if current is None or current.original != original:  # replaced or discarded meanwhile
            delete_files_on_commit([opus_name, mp3_name])
            return False
        old = [current.opus, current.mp3, original]
        model.objects.filter(pk=recording_id).update(
            status=model.Status.READY,
            original="",
            opus=opus_name,
            opus_bytes=sizes[0],
            mp3=mp3_name,
            mp3_bytes=sizes[1],
            duration_ms=result.duration_ms,
            loudness_in=result.loudness_in,
            loudness_out=result.loudness_out,
            error="",
            processed_at=timezone.now(),
        )
        delete_files_on_commit(old)
    return True


def process_recording(recording_id: int) -> bool:
    """The worker's part: make the Opus and MP3 files of a waiting recording, then publish
    them (the page, the feeds, the channel when the bulletin is out). Idempotent: a
    recording is claimed with a conditional update, so two workers never process it twice.
    Answers whether it is ready now."""
    done = _process(Recording, recording_id)
    if done is None:
        return False
    if not done:
        announce_due()  # a bulletin that waited for it goes out as text
        return False
    invalidate()
    transaction.on_commit(lambda: _announce_late(recording_id))
    return True


def process_pending_recording(pending_id: int) -> bool:
    """The worker's part for a recording waiting for approval: its files are made now (the
    reviewer listens to them), and nothing public changes. Answers whether it is ready."""
    return bool(_process(PendingRecording, pending_id))


def _announce_late(recording_id: int) -> None:
    """After processing: bulletins that waited for their recording go out now; one that
    was announced before its recording came gets the audio on its own."""
    announce_due()
    recording = Recording.objects.select_related("post").filter(pk=recording_id).first()
    if recording is None:
        return
    post = recording.post
    if post.is_visible and post.announced_at and recording.announced_at is None:
        claimed = Recording.objects.filter(pk=recording.pk, announced_at__isnull=True).update(
            announced_at=timezone.now()
        )
        if claimed:
            post = with_versions(Post.objects.filter(pk=post.pk)).get()
            _announce_audio(post, recording, now=timezone.now())


def pending_recording(post: Post) -> PendingRecording | None:
    return PendingRecording.objects.filter(post=post).first()


# What the editor page sends as `seen` when it offers a removal for approval.
REMOVAL_SEEN = "removal"


def pending_recording_token(pending: PendingRecording) -> str:
    """What the editor page names as the waiting recording the reviewer heard (the name of
    its MP3 file) or the removal they read about: `approve_recording`'s `seen`."""
    return REMOVAL_SEEN if pending.removal else pending.mp3.rsplit("/", 1)[-1]


def may_approve_recording(post: Post, actor, pending: PendingRecording | None = None) -> bool:
    """Someone who may publish and did not upload the waiting recording, or ask for the
    removal waiting (anyone who may publish with KROV_BULLETINS_SELF_APPROVAL)."""
    pending = pending if pending is not None else pending_recording(post)
    if pending is None or not can_publish(actor):
        return False
    return settings.KROV_BULLETINS_SELF_APPROVAL or actor.pk != pending.uploaded_by_id


def approve_recording(post: Post, *, actor, seen: str | None = None) -> Recording | None:
    """A second editor approves the recording waiting on a published bulletin: its files
    become the bulletin's recording (the one before is deleted after the commit). `seen`
    is the name of the MP3 they listened to (the editor page sends it): a recording
    replaced since cannot be approved unheard. A removal waiting is approved the same
    way (`seen` is REMOVAL_SEEN): the recording goes offline now, its files after the
    commit; answers None then."""
    if not can_publish(actor):
        raise BulletinError(_("Only editors who may publish can approve."))
    with transaction.atomic():
        post = Post.objects.select_for_update().get(pk=post.pk)
        pending = (
            PendingRecording.objects.select_for_update(of=("self",))
            .select_related("uploaded_by")
            .filter(post=post)
            .first()
        )
        if pending is None:
            raise BulletinError(_("There is no recording waiting for approval."))
        if not pending.removal and not pending.is_ready:
            raise BulletinError(
                _("The recording is not ready yet: approve it once you can listen to it.")
            )
        if seen is not None and seen != pending_recording_token(pending):
            raise BulletinError(
                _("The recording changed since you opened the page. Listen again, then approve.")
            )
        if not may_approve_recording(post, actor, pending):
            if pending.removal:
                raise BulletinError(
                    _("A second editor must approve the removal of the recording you asked for.")
                )
            raise BulletinError(_("A second editor must approve the recording you uploaded."))
        if pending.removal:
            _approve_removal(post, pending, actor=actor)
            return None
        files = {
            name: getattr(pending, name)
            for name in (
                "opus",
                "opus_bytes",
                "mp3",
                "mp3_bytes",
                "duration_ms",
                "loudness_in",
                "loudness_out",
                "uploaded_by",
                "uploaded_at",
                "processed_at",
            )
        }
        recording = Recording.objects.select_for_update().filter(post=post).first()
        old = [recording.original, recording.opus, recording.mp3] if recording else []
        # Its files are the recording's now: the row goes without them (krov.bulletins.signals
        # deletes the files of a deleted row).
        pending.original = pending.opus = pending.mp3 = ""
        pending.delete()
        if recording is None:
            recording = Recording.objects.create(post=post, status=Recording.Status.READY, **files)
        else:
            for name, value in files.items():
                setattr(recording, name, value)
            recording.status, recording.original, recording.error = Recording.Status.READY, "", ""
            recording.save(update_fields=[*files, "status", "original", "error"])
        Post.objects.filter(pk=post.pk).update(approved_by=actor, updated_at=timezone.now())
        delete_files_on_commit(old)
        _audit(
            AuditKind.RECORDING_APPROVED,
            post,
            actor=actor,
            uploaded_by=_pseudonym(pending.uploaded_by),
        )
        transaction.on_commit(invalidate)
        recording_id = recording.pk
        # A first recording of a bulletin already out goes to the channel as audio.
        transaction.on_commit(lambda: _announce_late(recording_id))
    return recording


def _approve_removal(post: Post, pending: PendingRecording, *, actor) -> None:
    """The removal waiting on `post` (locked) is approved: the recording goes now, its
    files after the commit (krov.bulletins.signals)."""
    pending.delete()
    Recording.objects.filter(post=post).delete()
    Post.objects.filter(pk=post.pk).update(approved_by=actor, updated_at=timezone.now())
    _audit(
        AuditKind.RECORDING_REMOVED,
        post,
        actor=actor,
        requested_by=_pseudonym(pending.uploaded_by),
    )
    transaction.on_commit(invalidate)


def discard_recording(post: Post, *, actor) -> PendingRecording | None:
    """The recording (or removal) waiting for approval is rejected: the row goes now, its
    files after the commit (krov.bulletins.signals); what listeners had stays. Answers
    what was discarded, if anything."""
    _require_editor(actor)
    with transaction.atomic():
        pending = (
            PendingRecording.objects.select_for_update(of=("self",))
            .select_related("uploaded_by")
            .filter(post=post)
            .first()
        )
        if pending is None:
            return None
        pending.delete()
        Post.objects.filter(pk=post.pk).update(updated_at=timezone.now())
        who = _pseudonym(pending.uploaded_by)
        if pending.removal:
            _audit(AuditKind.REMOVAL_DISCARDED, post, actor=actor, requested_by=who)
        else:
            _audit(AuditKind.RECORDING_DISCARDED, post, actor=actor, uploaded_by=who)
    return pending


def remove_recording(post: Post, *, actor) -> PendingRecording | None:
    """An editor removes a bulletin's recording. Before publication (nothing public) it
    goes at once, its files after the commit. On a published bulletin the removal waits
    for a second editor, as a replacement does: listeners keep the recording until someone
    other than the editor who asked approves (`approve_recording`); answers the removal
    waiting then. It replaces a new recording waiting for approval (the last word wins, as
    between two uploads). A recording that could not be processed (nothing public) goes at
    once on a published bulletin too."""
    _require_editor(actor)
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        recording = Recording.objects.select_for_update().filter(post=locked).first()
        if recording is None:
            return None
        failed = recording.status == Recording.Status.FAILED and not recording.mp3
        if locked.status == Post.Status.PUBLISHED and not failed:
            return _request_removal(locked, actor=actor)
        recording.delete()  # its files after the commit (krov.bulletins.signals)
        # A removal asked for while the bulletin was published is done now.
        PendingRecording.objects.filter(post=locked, removal=True).delete()
        Post.objects.filter(pk=post.pk).update(updated_at=timezone.now())
        transaction.on_commit(invalidate)
    return None


def _request_removal(post: Post, *, actor) -> PendingRecording:
    waiting = PendingRecording.objects.select_for_update().filter(post=post).first()
    if waiting is not None and waiting.removal:
        return waiting  # asked already
    if waiting is not None:
        waiting.delete()  # a new recording waiting is superseded; its files after the commit
    removal = PendingRecording.objects.create(
        post=post, removal=True, status=PendingRecording.Status.READY, uploaded_by=actor
    )
    Post.objects.filter(pk=post.pk).update(updated_at=timezone.now())
    _audit(AuditKind.REMOVAL_REQUESTED, post, actor=actor)
    return removal


def requeue_recordings(now: datetime | None = None) -> int:
    """The periodic sweep: a recording whose nudge was lost (waiting for a while) is queued
    again; one a crashed worker left "processing" for an hour goes back to waiting. The
    same for recordings waiting for approval."""
    from datetime import timedelta

    now = now or timezone.now()
    count = 0
    for model in (Recording, PendingRecording):
        model.objects.filter(
            status=model.Status.PROCESSING, processed_at__lt=now - timedelta(hours=1)
        ).update(status=model.Status.PENDING)
        waiting = list(
            model.objects.filter(
                status=model.Status.PENDING, uploaded_at__lt=now - timedelta(minutes=5)
            ).values_list("pk", flat=True)
        )
        for recording_id in waiting:
            _queue_processing(recording_id, pending=model is PendingRecording)
        count += len(waiting)
    return count


def playable(post: Post) -> Recording | None:
    """The recording listeners get, or None (none, or not processed yet)."""
    try:
        recording = post.recording
    except Recording.DoesNotExist:
        return None
    return recording if recording.opus and recording.mp3 else None


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
