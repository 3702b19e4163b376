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
        existing.active = True
        existing.save(update_fields=["active"])
        return existing
    try:
        with transaction.atomic():
            return Source.objects.create(url=url, name=name, language=language)
    except IntegrityError:
        raise PressError(_("This feed is already watched.")) from None


def set_source_active(source: Source, *, actor, active: bool) -> None:
    _require_editor(actor)
    Source.objects.filter(pk=source.pk).update(active=active)
    source.active = active


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


def add_term(term: str, *, actor, endings: str = "") -> WatchTerm:
    _require_editor(actor)
    stem, cleaned = _clean_term(term, endings)
    if WatchTerm.objects.filter(term=stem).exists():
        raise PressError(_("This word stem is already on the watch list."))
    try:
        with transaction.atomic():
            watch = WatchTerm.objects.create(term=stem, endings=cleaned)
    except IntegrityError:
        raise PressError(_("This word stem is already on the watch list.")) from None
    rematch([watch])
    return watch


def change_term(watch: WatchTerm, *, actor, endings: str) -> None:
    _require_editor(actor)
    _stem, cleaned = _clean_term(watch.term, endings)
    watch.endings = cleaned
    watch.save(update_fields=["endings"])
    rematch([watch])


def remove_term(watch: WatchTerm, *, actor) -> None:
    """Off the watch list; stories it alone matched leave the press page."""
    _require_editor(actor)
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


def set_status(story: Story, *, actor, status: str) -> None:
    _require_editor(actor)
    if status not in SETTABLE:
        raise PressError(_("Unknown status."))
    Story.objects.filter(pk=story.pk).update(status=status)
    story.status = status


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
    return post


def answered_story(post) -> Story | None:
    """The story a bulletin answers (the first, if several), for its page."""
    return Story.objects.select_related("source").filter(answered_by=post).order_by("pk").first()


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
