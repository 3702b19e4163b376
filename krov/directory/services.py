"""The directory and the guides: proposals and their review, direct edits, verification,
revisions, staleness and search. Views, tasks and the API call these."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models import Count, Min, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.core import diff, notify, pagecache, undo
from krov.core import search as site_search
from krov.core.services import interface_languages, serbian_twin, unique_slug
from krov.directory import notices
from krov.directory.models import (
    AREAS,
    LANGUAGES_SPOKEN,
    Guide,
    GuideText,
    Organisation,
    OrganisationText,
    Proposal,
    Revision,
)

TELEGRAM_HANDLE = re.compile(r"^@?[A-Za-z][A-Za-z0-9_]{4,31}$")
ORG_FIELDS = (
    "kind",
    "city",
    "address",
    "online",
    "opening_hours",
    "website",
    "email",
    "telegram",
    "areas",
    "languages",
)


class DirectoryError(Exception):
    """Something about the directory that cannot be done; the message is for people."""


class Duplicate(DirectoryError):
    """A new organisation that already exists: offer a correction to `existing` instead."""

    def __init__(self, message: str, existing: Organisation):
        super().__init__(message)
        self.existing = existing


def invalidate() -> None:
    pagecache.invalidate("directory")


def can_review(user) -> bool:
    return bool(user.is_authenticated and user.has_perm("accounts.review_directory"))


def _require_reviewer(user) -> None:
    if not can_review(user):
        raise DirectoryError(_("Only reviewers of the directory can do this."))


# --- organisations ------------------------------------------------------------------------------


def clean_organisation(data: dict[str, Any]) -> dict[str, Any]:
    """Check a proposed or edited organisation; raise DirectoryError naming the problem."""
    name = str(data.get("name", "")).strip()
    if not name:
        raise DirectoryError(_("Please give the organisation's name."))
    if len(name) > 160:
        raise DirectoryError(_("The name is too long (160 characters at most)."))
    language = data.get("language") or "en"
    if language not in interface_languages():
        raise DirectoryError(_("Unknown language."))
    kind = data.get("kind") or Organisation.Kind.OTHER
    if kind not in Organisation.Kind.values:
        raise DirectoryError(_("Unknown kind of organisation."))
    website = str(data.get("website", "")).strip()
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            raise DirectoryError(_("The website is not a valid web address.")) from None
    email = str(data.get("email", "")).strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise DirectoryError(_("The email address is not valid.")) from None
    telegram = str(data.get("telegram", "")).strip()
    if telegram and not TELEGRAM_HANDLE.match(telegram):
        raise DirectoryError(_("The Telegram channel should look like @name."))
    areas = [a for a in data.get("areas", []) if a in AREAS]
    languages = [code for code in data.get("languages", []) if code in LANGUAGES_SPOKEN]
    return {
        "name": name,
        "description": str(data.get("description", "")).strip()[:5000],
        "language": language,
        "kind": kind,
        "city": str(data.get("city", "")).strip()[:80],
        "address": str(data.get("address", "")).strip()[:200],
        "online": bool(data.get("online")),
        "opening_hours": str(data.get("opening_hours", "")).strip()[:200],
        "website": website,
        "email": email,
        "telegram": ("@" + telegram.lstrip("@")) if telegram else "",
        "areas": areas,
        "languages": languages,
    }


def find_duplicate(name: str, city: str) -> Organisation | None:
    wanted = site_search.normalise(name).strip()
    candidates = OrganisationText.objects.select_related("organisation").filter(
        organisation__city__iexact=city.strip()
    )
    for text in candidates:
        if site_search.normalise(text.name).strip() == wanted:
            return text.organisation
    return None


def _snapshot(org: Organisation) -> dict[str, Any]:
    return {
        **{field: getattr(org, field) for field in ORG_FIELDS},
        "texts": {
            t.language: {"name": t.name, "description": t.description} for t in org.texts.all()
        },
    }


def _apply(org: Organisation | None, data: dict[str, Any], *, author, note: str) -> Organisation:
    values = {
        **{f: data[f] for f in ORG_FIELDS if f not in {"areas", "languages"}},
        "areas": "," + ",".join(data["areas"]) + "," if data["areas"] else "",
        "languages": "," + ",".join(data["languages"]) + "," if data["languages"] else "",
        "updated_at": timezone.now(),
    }
    if org is None:
        slug = unique_slug(
            Organisation,
            data["name"],
            fallback="organisation",
            language=data["language"],
            routes=("directory:organisation",),
        )
        org = Organisation.objects.create(slug=slug, original_language=data["language"], **values)
    else:
        for field, value in values.items():
            setattr(org, field, value)
        org.save(update_fields=list(values))
    _write_text(org, data["language"], data["name"], data["description"])
    Revision.objects.create(organisation=org, author=author, note=note, data=_snapshot(org))
    invalidate()
    return org


def _write_text(org: Organisation, language: str, name: str, description: str) -> None:
    search = site_search.normalise(f"{name} {description}")
    OrganisationText.objects.update_or_create(
        organisation=org,
        language=language,
        defaults={
            "name": name,
            "description": description,
            "derived": False,
            "search_text": search,
        },
    )
    twin = serbian_twin(language)
    if twin:
        other, convert = twin
        OrganisationText.objects.update_or_create(
            organisation=org,
            language=other,
            defaults={
                "name": convert(name),
                "description": convert(description),
                "derived": True,
                "search_text": search,
            },
        )


@transaction.atomic
def propose(*, actor, data: dict[str, Any], organisation: Organisation | None = None) -> Proposal:
    """A member proposes a new organisation, or a correction to one."""
    if not (actor.is_authenticated and actor.has_perm("accounts.use_member_area")):
        raise DirectoryError(_("Please sign in to propose an organisation."))
    cleaned = clean_organisation(data)
    if organisation is None:
        existing = find_duplicate(cleaned["name"], cleaned["city"])
        if existing is not None:
            raise Duplicate(
                _("This organisation is already in the directory; please propose a correction."),
                existing,
            )
    return Proposal.objects.create(organisation=organisation, data=cleaned, proposer=actor)


def pending_proposals() -> QuerySet[Proposal]:
    """The proposals waiting for a reviewer, oldest first: what the review page lists."""
    return Proposal.objects.filter(status=Proposal.Status.PENDING).order_by("created_at", "id")


def _shown(field: str, value: Any) -> str:
    """A field's value as a reviewer reads it: labels, not codes."""
    if field in ("areas", "languages"):
        names = AREAS if field == "areas" else LANGUAGES_SPOKEN
        codes = value if isinstance(value, list) else [c for c in str(value or "").split(",") if c]
        return ", ".join(str(names.get(code, code)) for code in codes)
    if field == "kind":
        return str(Organisation.Kind(value).label) if value in Organisation.Kind.values else ""
    if field == "online":
        return _("yes") if value else _("no")
    return str(value or "")


def proposal_changes(proposal: Proposal) -> list[diff.Change]:
    """The proposal against the entry as it is now, field by field (against nothing for a
    new organisation), so that a reviewer sees what would change, not only the new text."""
    from krov.directory.forms import OrganisationForm

    labels = {name: field.label for name, field in OrganisationForm.base_fields.items()}
    data, org = proposal.data, proposal.organisation
    # texts.all(): the review page prefetches them, so a page of proposals is two queries.
    text = (
        next((t for t in org.texts.all() if t.language == data.get("language")), None)
        if org
        else None
    )
    current = {
        "name": text.name if text else "",
        "description": text.description if text else "",
        **{field: getattr(org, field) if org else "" for field in ORG_FIELDS},
    }
    fields = ["name", "description", *ORG_FIELDS]
    return diff.changes(
        [
            (
                labels[field],
                _shown(field, current[field]) if org else "",
                _shown(field, data.get(field, "")),
            )
            for field in fields
        ]
    )


def review_waiting() -> dict:
    """What waits for a reviewer, for their home, in two queries: `proposals`, how many
    proposals wait, and `since`, when the oldest came; `stale`, how many guides are past
    their verify-by date (`stale_guides`)."""
    found = pending_proposals().aggregate(proposals=Count("pk"), since=Min("created_at"))
    return {**found, "stale": stale_guides().count()}


@transaction.atomic
def approve(proposal: Proposal, *, actor, edits: dict[str, Any] | None = None) -> Organisation:
    """A reviewer approves (possibly after editing); the proposer is told."""
    _require_reviewer(actor)
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.status != Proposal.Status.PENDING:
        raise DirectoryError(_("This proposal was already reviewed."))
    data = clean_organisation({**proposal.data, **(edits or {})})
    # The proposer is on the proposal, which reviewers see; the public history names nobody.
    note = _("Approved proposal")
    org = _apply(proposal.organisation, data, author=actor, note=note)
    now = timezone.now()
    Proposal.objects.filter(pk=proposal.pk).update(
        status=Proposal.Status.APPROVED,
        reviewed_by=actor,
        reviewed_at=now,
        told_at=now,
        organisation=org,
    )
    notify.notify(proposal.proposer, notices.APPROVED, link=org.get_absolute_url())
    return org


@transaction.atomic
def reject(proposal: Proposal, *, actor, reason: str) -> None:
    """A reviewer rejects with a reason. The proposer is told once the reviewer can no
    longer undo it (`undo_reject`): a task waits out the undo window (`tell_rejected`)."""
    _require_reviewer(actor)
    reason = reason.strip()
    if not reason:
        raise DirectoryError(_("Please give the proposer a reason."))
    updated = Proposal.objects.filter(pk=proposal.pk, status=Proposal.Status.PENDING).update(
        status=Proposal.Status.REJECTED,
        reviewed_by=actor,
        reviewed_at=timezone.now(),
        reason=reason[:300],
        told_at=None,
    )
    if not updated:
        raise DirectoryError(_("This proposal was already reviewed."))
    from krov.directory import tasks

    undo.tell_later(tasks.tell_rejected_proposer, proposal.pk)


@transaction.atomic
def undo_reject(data: dict, *, actor) -> str:
    """krov.core.undo: a rejection made a moment ago goes back to the review queue, as
    long as its proposer has not been told (`data`: {"proposal": id})."""
    if not can_review(actor):
        raise undo.UndoError(_("Only reviewers of the directory can do this."))
    pk = data.get("proposal")
    undone = Proposal.objects.filter(
        pk=pk if isinstance(pk, int) else 0,
        status=Proposal.Status.REJECTED,
        told_at__isnull=True,
    ).update(status=Proposal.Status.PENDING, reviewed_by=None, reviewed_at=None, reason="")
    if not undone:
        raise undo.UndoError(_("Too late to undo: the proposer was already told."))
    return _("The proposal is back in the review queue; the proposer was not told.")


@transaction.atomic
def tell_rejected(proposal_id: int | None = None, *, now=None) -> int:
    """Tell the proposers of rejections whose undo window has passed (one proposal, or
    every one due); idempotent: each is claimed by setting `told_at` before its notice is
    queued, in one transaction. Returns how many were told."""
    due = Proposal.objects.filter(status=Proposal.Status.REJECTED).select_related("proposer")
    if proposal_id is not None:
        due = due.filter(pk=proposal_id)

    def tell(proposal: Proposal) -> int:
        notify.notify(proposal.proposer, notices.REJECTED, params={"reason": proposal.reason})
        return 1

    return undo.tell_due(due, told="told_at", done_at="reviewed_at", tell=tell, now=now)


@transaction.atomic
def edit_organisation(org: Organisation, *, actor, data: dict[str, Any]) -> Organisation:
    _require_reviewer(actor)
    return _apply(org, clean_organisation(data), author=actor, note=_("Edited by a reviewer"))


@transaction.atomic
def verify_organisation(org: Organisation, *, actor) -> None:
    _require_reviewer(actor)
    Organisation.objects.filter(pk=org.pk).update(verified_by=actor, verified_at=timezone.now())
    invalidate()


def organisations(
    *, kind: str = "", area: str = "", language: str = "", query: str = ""
) -> QuerySet[Organisation]:
    found = Organisation.objects.prefetch_related("texts")
    if kind:
        found = found.filter(kind=kind)
    if area:
        found = found.filter(areas__contains=f",{area},")
    if language:
        found = found.filter(languages__contains=f",{language},")
    if query:
        texts = site_search.match(OrganisationText.objects.all(), "search_text", query)
        found = found.filter(pk__in=texts.values("organisation_id"))
    return found.order_by("slug")


# --- guides -------------------------------------------------------------------------------------


def _guide_snapshot(guide: Guide) -> dict[str, Any]:
    return {
        "topic": guide.topic,
        "sources": guide.sources,
        "verify_by": guide.verify_by.isoformat(),
        "last_verified_at": guide.last_verified_at.isoformat() if guide.last_verified_at else None,
        "organisations": sorted(guide.organisations.values_list("slug", flat=True)),
        "texts": {
            t.language: {"title": t.title, "body": t.body, "steps": t.steps}
            for t in guide.texts.all()
        },
    }


@transaction.atomic
def save_guide(
    guide: Guide | None,
    *,
    actor,
    language: str,
    title: str,
    body: str,
    topic: str,
    verify_by: date,
    steps: str = "",
    sources: str = "",
    organisations: list[Organisation] | None = None,
) -> Guide:
    _require_reviewer(actor)
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise DirectoryError(_("A guide needs a title and a text."))
    if topic not in Guide.Topic.values:
        raise DirectoryError(_("Unknown topic."))
    if language not in interface_languages():
        raise DirectoryError(_("Unknown language."))
    for line in sources.splitlines():
        if line.strip():
            try:
                URLValidator(schemes=["http", "https"])(line.strip())
            except ValidationError:
                raise DirectoryError(
                    _("Sources must be web addresses, one per line: %(line)s")
                    % {"line": line.strip()[:80]}
                ) from None
    if guide is None:
        slug = unique_slug(
            Guide, title, fallback="guide", language=language, routes=("directory:guide",)
        )
        guide = Guide.objects.create(
            slug=slug,
            topic=topic,
            original_language=language,
            verify_by=verify_by,
            sources=sources.strip(),
        )
    else:
        guide.topic, guide.verify_by, guide.sources = topic, verify_by, sources.strip()
        guide.updated_at = timezone.now()
        guide.save(update_fields=["topic", "verify_by", "sources", "updated_at"])
    if organisations is not None:
        guide.organisations.set(organisations)
    fields = {"title": title[:160], "body": body, "steps": steps.strip()}
    search = site_search.normalise(f"{title} {body} {steps}")
    GuideText.objects.update_or_create(
        guide=guide, language=language, defaults={**fields, "derived": False, "search_text": search}
    )
    twin = serbian_twin(language)
    if twin:
        other, convert = twin
        GuideText.objects.update_or_create(
            guide=guide,
            language=other,
            defaults={
                **{k: convert(v) for k, v in fields.items()},
                "derived": True,
                "search_text": search,
            },
        )
    Revision.objects.create(
        guide=guide, author=actor, note=_("Edited"), data=_guide_snapshot(guide)
    )
    invalidate()
    return guide


@transaction.atomic
def verify_guide(guide: Guide, *, actor, months: int = 6) -> None:
    """A reviewer checked the guide against its sources today."""
    _require_reviewer(actor)
    today = timezone.localdate()
    guide.last_verified_at, guide.verified_by = today, actor
    guide.verify_by = today + timedelta(days=30 * months)
    guide.save(update_fields=["last_verified_at", "verified_by", "verify_by"])
    Revision.objects.create(
        guide=guide, author=actor, note=_("Verified"), data=_guide_snapshot(guide)
    )
    invalidate()


def stale_guides() -> QuerySet[Guide]:
    return Guide.objects.filter(verify_by__lt=timezone.localdate()).prefetch_related("texts")


def tell_reviewers_about_stale_guides() -> int:
    stale = list(stale_guides())
    if not stale:
        return 0
    from krov.accounts.models import User

    reviewers = User.objects.filter(
        is_active=True, groups__permissions__codename="review_directory"
    ).distinct()
    for reviewer in reviewers:
        notify.notify(
            reviewer,
            notices.GUIDES_STALE,
            params={"count": len(stale)},
            link=reverse("directory:review"),
        )
    return len(stale)


# How many matching text rows the site search looks at before it keeps one per thing.
SEARCH_ROWS = 500


def search_guides(query: str) -> list[GuideText]:
    """Each matching guide once, in the page's language or script (krov.core.search.one_per)."""
    found = site_search.match(GuideText.objects.select_related("guide"), "search_text", query)
    return site_search.one_per(found[:SEARCH_ROWS], "guide_id", original="guide.original_language")


def search_organisations(query: str) -> list[OrganisationText]:
    """Each matching organisation once, in the page's language or script."""
    found = site_search.match(
        OrganisationText.objects.select_related("organisation"), "search_text", query
    )
    return site_search.one_per(
        found[:SEARCH_ROWS], "organisation_id", original="organisation.original_language"
    )
