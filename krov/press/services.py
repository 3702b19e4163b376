"""The press watch's business: sources, fetching and matching, the watch list, and
answering a story with a bulletin. Views, the task and the command call these."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from krov.core.services import interface_languages
from krov.press import fetching, matching, parsing
from krov.press.models import Source, Story, WatchTerm

log = logging.getLogger(__name__)
# A changed watch list is matched again against the stories of this many days.
REMATCH_DAYS = 90


class PressError(Exception):
    """Something about the press watch that cannot be done; the message is for people."""


class AuditKind:
    """The press watch's kinds of audit event (krov.core.audit): what editors do to the
    stories, the sources and the watch list. Their labels for the audit log page belong
    with the others in `AuditEvent.Kind` (krov.core.models)."""

    STORY_MARKED = "press_story_marked"
    SOURCE_ADDED = "press_source_added"
    SOURCE_REMOVED = "press_source_removed"
    SOURCE_RESTORED = "press_source_restored"
    TERM_ADDED = "press_term_added"
    TERM_CHANGED = "press_term_changed"
    TERM_REMOVED = "press_term_removed"


def _audit(kind: str, *, actor, target: str, **detail) -> None:
    from krov.core import audit

    audit.record(kind, actor=actor, target=target[:80], **detail)


def can_edit(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("accounts.edit_bulletins"))


def _require_editor(user) -> None:
    if not can_edit(user):
        raise PressError(_("Only editors can do this."))


# --- sources -------------------------------------------------------------------------------


def add_source(url: str, *, actor=None, name: str = "", language: str = "sr") -> Source:
    """A new feed to watch (`actor` None: the command line, run by the server's admin)."""
    if actor is not None:
        _require_editor(actor)
    url = url.strip()
    try:
        fetching.check_url(url)
    except fetching.FetchError as error:
        raise PressError(str(error)) from None
    if len(url) > 500:
        raise PressError(_("The address is too long."))
    if language not in interface_languages():
        raise PressError(_("Unknown language."))
    name = name.strip()[:120] or (urlsplit(url).hostname or url)[:120]
    existing = Source.objects.filter(url=url).first()
    if existing is not None:
        if existing.active:
            raise PressError(_("This feed is already watched."))
        with transaction.atomic():
            existing.active = True
            existing.save(update_fields=["active"])
            _audit_source(AuditKind.SOURCE_RESTORED, existing, actor=actor)
        return existing
    try:
        with transaction.atomic():
            source = Source.objects.create(url=url, name=name, language=language)
            _audit_source(AuditKind.SOURCE_ADDED, source, actor=actor)
            return source
    except IntegrityError:
        raise PressError(_("This feed is already watched.")) from None


def _audit_source(kind: str, source: Source, *, actor) -> None:
    _audit(kind, actor=actor, target=f"press-source:{source.pk}", source=source.name)


@transaction.atomic
def set_source_active(source: Source, *, actor, active: bool) -> None:
    """Watch a feed again, or no more (its stories stay)."""
    _require_editor(actor)
    changed = Source.objects.filter(pk=source.pk).exclude(active=active).update(active=active)
    source.active = active
    if changed:
        kind = AuditKind.SOURCE_RESTORED if active else AuditKind.SOURCE_REMOVED
        _audit_source(kind, source, actor=actor)


def sources() -> QuerySet[Source]:
    """Every source, with how many of its stories the watch list matched."""
    return Source.objects.annotate(
        matched=Count("stories", filter=Q(stories__terms__isnull=False), distinct=True)
    ).order_by("-active", "name")


# --- fetching ------------------------------------------------------------------------------


def _record_error(source: Source, code: str) -> None:
    source.last_error, source.last_error_at = code[:300], timezone.now()
    Source.objects.filter(pk=source.pk).update(
        last_error=source.last_error, last_error_at=source.last_error_at
    )


def fetch_source(source: Source) -> int:
    """Fetch one source and store its new entries; answers how many were new. A feed that
    fails is recorded on the source (`last_error`) and answers 0; nothing is raised."""
    try:
        fetched = fetching.fetch(source.url, etag=source.etag, last_modified=source.last_modified)
        entries = [] if fetched.not_modified else parsing.parse(fetched.body, fetched.content_type)
    except fetching.FetchError as error:
        log.info("press source %s: %s", source.pk, error.code)
        _record_error(source, error.code)
        return 0
    except Exception:
        log.exception("press source %s could not be read", source.pk)
        _record_error(source, "internal")
        return 0
    new = store_entries(source, entries)
    now = timezone.now()
    updates = {"last_ok_at": now, "last_error": "", "last_error_at": None}
    if not fetched.not_modified:
        updates.update(etag=fetched.etag, last_modified=fetched.last_modified)
    Source.objects.filter(pk=source.pk).update(**updates)
    for field, value in updates.items():
        setattr(source, field, value)
    return new


def fetch_all() -> dict[str, int]:
    """Every active source, one after the other; one that fails never stops the others."""
    counts = {"sources": 0, "new": 0, "failed": 0}
    for source in Source.objects.filter(active=True).order_by("pk"):
        try:
            counts["new"] += fetch_source(source)
        except Exception:  # storing failed (the database): the next source still gets its turn
            log.exception("press source %s could not be stored", source.pk)
            counts["failed"] += 1
            continue
        counts["sources"] += 1
        if source.last_error:
            counts["failed"] += 1
    return counts


def store_entries(source: Source, entries: list[parsing.Entry]) -> int:
    """Store the entries not yet known (by guid) and match them against the watch list."""
    if not entries:
        return 0
    known = set(
        Story.objects.filter(source=source, guid__in=[e.guid for e in entries]).values_list(
            "guid", flat=True
        )
    )
    matcher = matching.Matcher.from_terms(WatchTerm.objects.all())
    new = 0
    for entry in entries:
        if entry.guid in known:
            continue
        known.add(entry.guid)
        text = matching.text_for_matching(entry.title, entry.summary)
        with transaction.atomic():
            story, created = Story.objects.get_or_create(
                source=source,
                guid=entry.guid,
                defaults={
                    "link": entry.link,
                    "title": entry.title,
                    "summary": entry.summary,
                    "published_at": entry.published_at,
                    "search_text": text,
                },
            )
            if created:
                new += 1
                story.terms.set(matcher.matches(text))
    return new


# --- the watch list --------------------------------------------------------------------------


def _clean_term(term: str, endings: str) -> tuple[str, str]:
    stem = matching.clean_stem(term)
    if len(stem) < 2 or len(stem) > 60:
        raise PressError(_("A word stem has 2 to 60 letters."))
    if not all(ch.isalpha() or ch in " -'" for ch in stem):
        raise PressError(_("A word stem has letters only."))
    cleaned = matching.clean_endings(endings)
    if len(cleaned) > matching.MAX_ENDINGS:
        raise PressError(_("Too many endings."))
    for ending in cleaned:
        if ending != "-" and (not ending.isalpha() or len(ending) > matching.MAX_ENDING_LENGTH):
            raise PressError(_('An ending has letters only (or is "-" for no ending).'))
    return stem, " ".join(cleaned)


def _audit_term(kind: str, watch: WatchTerm, *, actor, **detail) -> None:
    _audit(kind, actor=actor, target=f"press-term:{watch.pk}", term=watch.term, **detail)


def add_term(term: str, *, actor, endings: str = "") -> WatchTerm:
    _require_editor(actor)
    stem, cleaned = _clean_term(term, endings)
    if WatchTerm.objects.filter(term=stem).exists():
        raise PressError(_("This word stem is already on the watch list."))
    try:
        with transaction.atomic():
            watch = WatchTerm.objects.create(term=stem, endings=cleaned)
            _audit_term(AuditKind.TERM_ADDED, watch, actor=actor, endings=cleaned)
    except IntegrityError:
        raise PressError(_("This word stem is already on the watch list.")) from None
    rematch([watch])
    return watch


@transaction.atomic
def change_term(watch: WatchTerm, *, actor, endings: str) -> None:
    _require_editor(actor)
    _stem, cleaned = _clean_term(watch.term, endings)
    before = WatchTerm.objects.filter(pk=watch.pk).values_list("endings", flat=True).first()
    watch.endings = cleaned
    watch.save(update_fields=["endings"])
    if before != cleaned:
        _audit_term(AuditKind.TERM_CHANGED, watch, actor=actor, old=before or "", new=cleaned)
    rematch([watch])


@transaction.atomic
def remove_term(watch: WatchTerm, *, actor) -> None:
    """Off the watch list; stories it alone matched leave the press page."""
    _require_editor(actor)
    _audit_term(AuditKind.TERM_REMOVED, watch, actor=actor, endings=watch.endings)
    watch.delete()


@transaction.atomic
def rematch(terms: list[WatchTerm]) -> None:
    """Match `terms` again against the recent stories (after an editor changed them)."""
    since = timezone.now() - timedelta(days=REMATCH_DAYS)
    matcher = matching.Matcher.from_terms(terms)
    through = Story.terms.through
    ids = [term.pk for term in terms]
    through.objects.filter(watchterm_id__in=ids, story__published_at__gte=since).delete()
    links: list = []
    for story_id, text in Story.objects.filter(published_at__gte=since).values_list(
        "pk", "search_text"
    ):
        links.extend(
            through(story_id=story_id, watchterm_id=term_id) for term_id in matcher.matches(text)
        )
    through.objects.bulk_create(links, ignore_conflicts=True)


# --- stories -------------------------------------------------------------------------------


def matched_stories() -> QuerySet[Story]:
    """Stories some term matched, newest first, with what the press page shows (a fixed
    number of queries however many)."""
    return (
        Story.objects.matched()
        .with_state()
        .select_related("source", "answered_by")
        .prefetch_related(Prefetch("terms", queryset=WatchTerm.objects.order_by("term")))
        .order_by("-published_at", "-id")
    )


SETTABLE = {
    Story.Status.NEW,
    Story.Status.TO_ANSWER,
    Story.Status.NOT_RELEVANT,
    Story.Status.ANSWERED,
}


@transaction.atomic
def set_status(story: Story, *, actor, status: str) -> None:
    """An editor marks a story ("to answer", "not relevant", "answered", or new again)."""
    _require_editor(actor)
    if status not in SETTABLE:
        raise PressError(_("Unknown status."))
    before = Story.objects.select_for_update().filter(pk=story.pk).values_list("status", flat=True)
    old = before.first()
    if old is None:
        raise PressError(_("This story is no longer there."))
    Story.objects.filter(pk=story.pk).update(status=status)
    story.status = status
    if old != status:
        _audit_story(story, actor=actor, old=old, new=status)


def _audit_story(story: Story, *, actor, **detail) -> None:
    _audit(
        AuditKind.STORY_MARKED,
        actor=actor,
        target=f"press-story:{story.pk}",
        story=story.title[:120],
        **detail,
    )


@transaction.atomic
def answer_with_bulletin(story: Story, *, actor, language: str):
    """A bulletin draft in answer to `story`, linked to it; answers the Post. The story
    shows as answered once that bulletin is published."""
    from krov.bulletins import services as bulletins

    _require_editor(actor)
    story = Story.objects.select_for_update().get(pk=story.pk)
    if story.answered_by is not None:
        return story.answered_by
    if language not in interface_languages():
        language = story.source.language if story.source.language in interface_languages() else "sr"
    with translation.override(language):
        title = str(_("Re: %(headline)s") % {"headline": story.title})[:200]
    body = f"> {story.title}\n>\n> — {story.source.name}" + (
        f", <{story.link}>" if story.link else ""
    )
    try:
        post = bulletins.create_post(actor=actor, language=language, title=title, body=body)
    except bulletins.BulletinError as error:
        raise PressError(str(error)) from None
    Story.objects.filter(pk=story.pk).update(answered_by=post, status=Story.Status.TO_ANSWER)
    _audit_story(
        story, actor=actor, old=story.status, new=Story.Status.TO_ANSWER, bulletin=post.slug
    )
    return post


def answered_story(post) -> Story | None:
    """The story a bulletin answers (the first, if several), for its page."""
    return Story.objects.select_related("source").filter(answered_by=post).order_by("pk").first()


# --- retention -------------------------------------------------------------------------------

PURGE_BATCH = 1000


def keep_days() -> int:
    return int(getattr(settings, "KROV_PRESS_KEEP_DAYS", 365))


def keep_since(now=None):
    return (now or timezone.now()) - timedelta(days=keep_days())


def purge_old_stories(now=None) -> int:
    """Stories older than the retention window (KROV_PRESS_KEEP_DAYS, default 365) are
    deleted, with their matches; a story linked to a bulletin (the answer, a draft or
    published) stays as long as that bulletin exists. Older means published and fetched
    before the window: an old entry a feed still lists is not stored again at every fetch
    after it was deleted. Answers how many were deleted. The worker runs it every night
    (krov.press.tasks), `krov purge` with the other retention rules."""
    cutoff = keep_since(now)
    old = Story.objects.filter(
        published_at__lt=cutoff, fetched_at__lt=cutoff, answered_by__isnull=True
    )
    deleted = 0
    while True:
        batch = list(old.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
        if not batch:
            break
        with transaction.atomic():
            gone = Story.objects.filter(pk__in=batch, answered_by__isnull=True).delete()[1]
        count = gone.get(Story._meta.label, 0)
        if not count:  # answered meanwhile: nothing of this batch may go
            break
        deleted += count
    if deleted:
        log.info("press: %s old stories deleted", deleted)
    return deleted


# --- the weekly digest -----------------------------------------------------------------------

DIGEST_HEADLINES = 10


def send_weekly_digest(now=None) -> int:
    """Tell every editor what the press wrote about us in the last seven days (nothing when
    nothing matched); once per editor and ISO week, however often it runs. Answers how
    many were queued."""
    from krov.accounts import roles
    from krov.accounts.models import User
    from krov.core import notify
    from krov.core.models import Notification
    from krov.press.notices import WEEKLY_DIGEST

    now = now or timezone.now()
    year, week, _day = timezone.localtime(now).isocalendar()
    ref = f"press-digest:{year}-W{week:02d}"
    recent = matched_stories().filter(fetched_at__gte=now - timedelta(days=7))
    new = recent.count()
    if not new:
        return 0
    headlines = "\n".join(f"- {story.title}" for story in recent[:DIGEST_HEADLINES])
    editors = User.objects.filter(is_active=True, groups__name=roles.EDITOR).distinct()
    told = set(
        Notification.objects.filter(kind=WEEKLY_DIGEST.kind, ref=ref).values_list(
            "recipient_id", flat=True
        )
    )
    with translation.override(settings.LANGUAGE_CODE):
        link = reverse("press:stories")  # delivered in each editor's language
    count = 0
    with transaction.atomic():
        for editor in editors:
            if editor.pk in told:
                continue
            notify.notify(
                editor,
                WEEKLY_DIGEST,
                params={"count": new, "title": headlines},
                link=link,
                ref=ref,
            )
            count += 1
    return count
