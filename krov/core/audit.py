"""Writing to the append-only audit log. The one place audit records are made."""

from __future__ import annotations

from typing import Any

from krov.core.models import AuditEvent


def record(kind: str, *, actor=None, subject=None, target: str = "", **detail: Any) -> AuditEvent:
    """Record a security event. `actor` and `subject` are users (or None); no addresses."""
    return AuditEvent.objects.create(
        kind=kind,
        actor_id_ref=getattr(actor, "pk", None),
        actor_pseudonym=getattr(actor, "pseudonym", "") or "",
        subject_id_ref=getattr(subject, "pk", None),
        subject_pseudonym=getattr(subject, "pseudonym", "") or "",
        target=target,
        detail=detail,
    )
