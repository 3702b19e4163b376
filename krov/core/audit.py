"""Writing to the append-only audit log. The one place audit records are made.

Rows form a hash chain: `row_hash` = SHA-256 over the previous row's hash and this row's
content. Deleting, changing or reordering rows breaks the chain from there on; `verify()`
(and `krov audit-verify`) finds the first break. Someone who can write the database can
also recompute the whole chain, so `verify()` returns the head hash: write it down (or
send it elsewhere) now and then, and a rewritten history no longer ends in it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krov.core.models import AuditEvent

GENESIS = "0" * 64
# Any 64-bit number, the same for every Krov: serialises writers of the chain on PostgreSQL.
_PG_LOCK = 0x4B524F56_41554454  # "KROVAUDT"


def _content(event: AuditEvent) -> str:
    return json.dumps(
        [
            event.at.isoformat(),
            event.kind,
            event.actor_id_ref,
            event.actor_pseudonym,
            event.subject_id_ref,
            event.subject_pseudonym,
            event.target,
            event.detail,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def chain_hash(prev_hash: str, event: AuditEvent) -> str:
    return hashlib.sha256(f"{prev_hash}\n{_content(event)}".encode()).hexdigest()


def record(kind: str, *, actor=None, subject=None, target: str = "", **detail: Any) -> AuditEvent:
    """Record a security event. `actor` and `subject` are users (or None); no addresses."""
    event = AuditEvent(
        at=timezone.now(),
        kind=kind,
        actor_id_ref=getattr(actor, "pk", None),
        actor_pseudonym=getattr(actor, "pseudonym", "") or "",
        subject_id_ref=getattr(subject, "pk", None),
        subject_pseudonym=getattr(subject, "pseudonym", "") or "",
        target=target,
        detail=json.loads(json.dumps(detail, default=str)),  # as the database gives it back
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PG_LOCK])
        # On SQLite every write transaction is exclusive already (BEGIN IMMEDIATE).
        last = AuditEvent.objects.order_by("-id").values_list("row_hash", flat=True).first()
        event.prev_hash = last or GENESIS
        event.row_hash = chain_hash(event.prev_hash, event)
        event.save(force_insert=True)
    return event


@dataclass
class Verdict:
    rows: int
    head: str
    broken_at: int | None = None  # the id of the first row whose hash does not fit
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify() -> Verdict:
    """Walk the chain from the first row; stop at the first row that does not fit."""
    prev = GENESIS
    rows = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        rows += 1
        if event.prev_hash != prev:
            return Verdict(rows, prev, event.pk, "a row before it is missing or was changed")
        if event.row_hash != chain_hash(prev, event):
            return Verdict(rows, prev, event.pk, "its content was changed")
        prev = event.row_hash
    return Verdict(rows, prev)


# --- reading the log ------------------------------------------------------------------------

# What the details of a row are called for people (the audit log page); a key not named here
# is shown as a phrase made of the key ("requested_by" → "requested by").
DETAIL_LABELS = {
    "reason": _("reason"),
    "type": _("kind of second factor"),
    "old": _("before"),
    "new": _("after"),
    "previous": _("before"),
    "role": _("role"),
    "via": _("how"),
    "fields": _("fields"),
    "count": _("how many"),
    "hidden": _("listings hidden"),
    "custodian": _("custodian"),
    "key": _("key"),
    "replaces": _("replaces key"),
    "requested_by": _("requested by"),
    "confirmed_by": _("confirmed by"),
    "removed": _("removed"),
    "by": _("by"),
    "closed": _("closed cases"),
    "spam": _("spam"),
    "file": _("file"),
    "imported": _("imported"),
    "story": _("story"),
    "source": _("feed"),
    "term": _("word stem"),
    "endings": _("endings"),
    "bulletin": _("bulletin"),
    "venue": _("venue"),
    "tag": _("tag"),
    "language": _("language"),
    "languages": _("languages"),
    "written_by": _("written by"),
    "uploaded_by": _("uploaded by"),
    "scheduled_for": _("to be published at"),
}
_PLAIN_VALUES = {
    "button": _("the panic button"),
    "duress": _("the duress password"),
    "requester": _("the requester"),
}


# detail key -> functions giving {stored code: label}: apps register the choices their
# details hold (core imports no app), e.g. housing's flag reasons under "reason".
_detail_choices: dict[str, list[Callable[[], Iterable[tuple[Any, Any]]]]] = {}


def register_detail_choices(key: str, choices: Callable[[], Iterable[tuple[Any, Any]]]) -> None:
    """Detail values under `key` that are codes of `choices()` (a model's `.choices`) show
    as their labels on the audit log page."""
    _detail_choices.setdefault(key, []).append(choices)


def _choice_labels() -> dict[str, dict[str, str]]:
    return {
        key: {str(value): label for source in sources for value, label in source()}
        for key, sources in _detail_choices.items()
    }


def kind_label(kind: str) -> str:
    """The human name of a kind of event; a kind that is not (or no longer) a known one is
    made readable rather than shown as its code."""
    known = dict(AuditEvent.Kind.choices)
    if kind in known:
        return str(known[kind])
    return kind.replace("_", " ").capitalize()


def describe(detail: dict[str, Any]) -> list[tuple[str, str]]:
    """A row's details as (label, value) pairs for people: codes become their labels."""
    choices = _choice_labels()
    described = []
    for key, value in detail.items():
        label = str(DETAIL_LABELS.get(key, key.replace("_", " ")))
        if isinstance(value, bool):
            shown = str(_("yes") if value else _("no"))
        elif key in choices and str(value) in choices[key]:
            shown = str(choices[key][str(value)])
        elif isinstance(value, str) and value in _PLAIN_VALUES:
            shown = str(_PLAIN_VALUES[value])
        elif isinstance(value, list):
            shown = ", ".join(str(item) for item in value)
        else:
            shown = str(value)
        described.append((label, shown))
    return described


@dataclass
class Run:
    """One person's openings of the same thing close together: shown as one row."""

    event: AuditEvent  # the first one met (the newest, for a log read newest first)
    times: int


def collapse_repeats(events: Iterable[AuditEvent], *, within: timedelta) -> list[Run]:
    """One row per person per `within` for a list people read ("who opened this case"):
    the log itself keeps every opening; a volunteer who reloads a case ten times in five
    minutes is one row that says so, not ten."""
    runs: list[Run] = []
    current: dict[object, Run] = {}
    for event in events:
        person = event.actor_id_ref if event.actor_id_ref is not None else event.actor_pseudonym
        run = current.get(person)
        if run is not None and abs(run.event.at - event.at) < within:
            run.times += 1
            continue
        current[person] = Run(event, 1)
        runs.append(current[person])
    return runs
