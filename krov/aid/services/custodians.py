"""Key custodians: a case's key reaches the volunteer who took it when no coordinator's Krov
is open (docs/threat-model.md, "Who gets a case key, and when").

A custodian is a small process on a machine other than the server (`krov custodian run`).
It makes its own reader key there, locked under a passphrase in a file of the recovery-file
format; a coordinator shares the team key with it exactly as with a coordinator (after
comparing fingerprints), and can revoke it. With its token it does what a coordinator's open
Krov does in the background, and nothing else: it shares case keys with the volunteers who
took cases, and hands waiting answers' case keys to the running workers. The server stores only
the token's keyed hash.
"""

from __future__ import annotations

import hmac
import re
import secrets
import time
import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.aid.models import Custodian, HelpRequest, ReaderKey
from krov.aid.services.base import AidError, keyed_hash
from krov.aid.services.keys import (
    _check_public_key,
    grant_case_key,
    reader_key_by_id,
    reader_key_of,
    request_team_key_renewal,
    revoke_reader_keys,
    team_key_grant_for,
)
from krov.core import audit, inputs, sealing
from krov.core.models import AuditEvent

TOKEN_PREFIX = "krovc_"  # noqa: S105 - what every token starts with, for secret scanners
NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
SEEN_EVERY = timedelta(minutes=1)
# A custodian not heard of for this long is shown as silent to the coordinators.
SILENT_AFTER = timedelta(minutes=5)


def _token_hash(token: str) -> str:
    return keyed_hash("custodian-token", token)


@transaction.atomic
def add_custodian(name: str, *, actor=None) -> tuple[Custodian, str]:
    """A new custodian and its token (shown once; only its keyed hash is kept). It can do
    nothing until it registers its key and a coordinator shares the team key with it."""
    name = (name or "").strip().lower()
    if not NAME.fullmatch(name):
        raise AidError(_("A custodian's name has 1 to 30 lowercase letters, digits or dashes."))
    if Custodian.objects.filter(name=name).exists():
        raise AidError(_("A custodian with this name exists already."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    # A service account nobody signs in to: no usable password, an address that cannot
    # receive mail, no role. It names the custodian in the audit log and holds its key.
    try:
        with transaction.atomic():
            user = get_user_model().objects.create_user(
                email=f"custodian-{uuid.uuid4().hex}@custodian.invalid",
                password=None,
                pseudonym=f"custodian:{name}",
                is_service_account=True,
            )
            custodian = Custodian.objects.create(
                name=name, user=user, token_hash=_token_hash(token), created_by=actor
            )
    except IntegrityError:
        raise AidError(_("A custodian with this name exists already.")) from None
    audit.record(AuditEvent.Kind.CUSTODIAN_ADDED, actor=actor, subject=user, custodian=name)
    return custodian, token


def custodian_for_token(token: str) -> Custodian | None:
    """The custodian a presented token belongs to, or None (unknown, malformed or revoked)."""
    if not token or not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    custodian = (
        Custodian.objects.filter(token_hash=_token_hash(token), revoked_at__isnull=True)
        .select_related("user")
        .first()
    )
    if custodian is None or not custodian.user.is_active:
        return None
    return custodian


# The proof of key: the server seals a value to the custodian's key (in `mine`); the
# custodian opens it and sends it with its next calls. A token alone (its file copied, the
# key file not) then opens no call that reads or writes keys, and cannot make a stopped
# custodian look alive. The value changes every window and is derived, not stored.
PROOF_WINDOW_SECONDS = 600
PROOF_HEADER = "X-Krov-Custodian-Proof"


def _proof(custodian: Custodian, public_key: str, window: int) -> str:
    # Bound to the token and to the key: a proof opened before the key was replaced (or the
    # token renewed) proves nothing afterwards.
    return keyed_hash(
        "custodian-proof", f"{custodian.pk}:{custodian.token_hash}:{public_key}:{window}"
    )


def custodian_challenge(custodian: Custodian, now: float | None = None) -> str:
    """This window's proof, sealed to the custodian's key ("" before it registered one)."""
    key = reader_key_of(custodian.user)
    if key is None:
        return ""
    window = int((now if now is not None else time.time()) // PROOF_WINDOW_SECONDS)
    return sealing.seal(
        _proof(custodian, key.public_key, window),
        key.public_key,
        sealing.custodian_proof_info(key.public_key),
    )


def custodian_proves_key(custodian: Custodian, proof: str, now: float | None = None) -> bool:
    """Whether `proof` is the opened challenge of this window or the one before. A proof is
    a bearer value for that long (at most two windows, 20 minutes): whoever copies it off
    the wire along with the token acts as the custodian until it lapses. TLS keeps it off
    the wire; the server never logs headers."""
    if not proof or len(proof) > 100:
        return False
    key = reader_key_of(custodian.user)
    if key is None:
        return False
    window = int((now if now is not None else time.time()) // PROOF_WINDOW_SECONDS)
    return any(
        hmac.compare_digest(proof.encode(), _proof(custodian, key.public_key, w).encode())
        for w in (window, window - 1)
    )


def custodian_seen(custodian: Custodian, now=None) -> None:
    """Coordinators see when a custodian last proved it holds its key (written at most
    once a minute)."""
    now = now or timezone.now()
    if custodian.last_seen_at is None or custodian.last_seen_at <= now - SEEN_EVERY:
        Custodian.objects.filter(pk=custodian.pk).update(last_seen_at=now)
        custodian.last_seen_at = now


def custodian_by_id(public_id) -> Custodian | None:
    return Custodian.objects.filter(public_id=public_id, revoked_at__isnull=True).first()


def custodian_by_name(name: str) -> Custodian | None:
    return Custodian.objects.filter(name=(name or "").strip().lower()).first()


def custodians() -> list[tuple[Custodian, ReaderKey | None]]:
    """Every custodian that is not revoked, with its key (for the coordinators' key page)."""
    found = list(Custodian.objects.filter(revoked_at__isnull=True).select_related("user"))
    keys = {
        key.user_id: key
        for key in ReaderKey.objects.filter(
            user_id__in=[c.user_id for c in found], revoked_at__isnull=True
        )
    }
    return [(custodian, keys.get(custodian.user_id)) for custodian in found]


def is_silent(custodian: Custodian, now=None) -> bool:
    now = now or timezone.now()
    return custodian.last_seen_at is None or custodian.last_seen_at < now - SILENT_AFTER


@transaction.atomic
def register_custodian_key(custodian: Custodian, *, public_key: str) -> ReaderKey:
    """The public half of the key the custodian made on its own machine. Once: a custodian
    that lost its key file is revoked and a new one added (its key is never replaced by
    whoever holds the token)."""
    public_key = _check_public_key(public_key)
    existing = reader_key_of(custodian.user)
    if existing is not None and existing.public_key == public_key:
        return existing
    # Once, ever: a key revoked by any path (a role change on the service account, say) is
    # never replaced by whoever holds the token.
    if ReaderKey.objects.filter(user=custodian.user).exists():
        raise AidError(
            _("This custodian has a key already. Revoke it and add a new custodian instead.")
        )
    try:
        with transaction.atomic():
            key = ReaderKey.objects.create(user=custodian.user, public_key=public_key)
    except IntegrityError:
        raise AidError(_("This key is already in use.")) from None
    audit.record(
        AuditEvent.Kind.READER_KEY_ADDED,
        actor=custodian.user,
        subject=custodian.user,
        key=str(key.public_id),
    )
    return key


@transaction.atomic
def revoke_custodian(custodian: Custodian, *, actor=None) -> None:
    """The custodian's token and key open nothing any more, every copy made for its key is
    deleted, and, if it held the team key, the team key is renewed by the next coordinator
    (its machine may be in someone else's hands)."""
    custodian = Custodian.objects.select_for_update().get(pk=custodian.pk)
    if custodian.revoked_at is not None:
        return
    held_team_key = team_key_grant_for(custodian.user) is not None
    revoke_reader_keys(custodian.user, actor=actor)
    custodian.revoked_at = timezone.now()
    custodian.save(update_fields=["revoked_at"])
    if held_team_key:
        request_team_key_renewal()
    audit.record(
        AuditEvent.Kind.CUSTODIAN_REVOKED,
        actor=actor,
        subject=custodian.user,
        custodian=custodian.name,
    )


def custodian_grant_case_key(
    custodian: Custodian, *, case_id: str, reader_key_id: str, wrapped: str
) -> None:
    """The custodian shares one case's key with the volunteer who holds the case (the same
    rule as a coordinator's browser: see keys.grant_case_key)."""
    case_uuid = inputs.uuid_or_none(case_id)
    case = HelpRequest.objects.filter(public_id=case_uuid).first() if case_uuid else None
    reader = reader_key_by_id(reader_key_id)
    if case is None or reader is None:
        raise AidError(_("This case or key is not known."))
    grant_case_key(case, actor=custodian.user, reader_key=reader, wrapped=wrapped)
