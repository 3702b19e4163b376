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
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

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
