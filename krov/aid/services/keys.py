"""Keys of sealed cases: who holds which key, and how a case's key reaches its readers.

The shape (docs/threat-model.md, "Sealed cases"):
- every coordinator and volunteer has a reader key pair made in their own browser; the
  server stores the public half (ReaderKey);
- the coordinators share a team key pair; its private half is stored only wrapped to each
  coordinator's reader key (TeamKeyGrant), by a coordinator's browser;
- each case has its own key pair, made here at intake and held in memory only while its
  private half is wrapped: to the team key (CaseKeyGrant), and, for a web request, under a
  key derived from the requester's secret link (HelpRequest.requester_wrap). Everything
  written about the case is sealed to its public key (seal_text);
- a volunteer who takes a case gets the case key wrapped to their reader key by a
  coordinator's browser (pending_case_grants → grant_case_key), and loses it when the case
  leaves them.

The server never holds a private key that opens case content after the request that made
it: nothing here can open what it seals.
"""

from __future__ import annotations

import functools
import secrets
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.accounts import services as account_services
from krov.aid import notices
from krov.aid.models import (
    CaseKeyGrant,
    HelpRequest,
    Message,
    Note,
    PendingCaseKey,
    ReaderKey,
    TeamKey,
    TeamKeyGrant,
)
from krov.aid.services.access import holds_team_key_role, is_coordinator, profile_of
from krov.aid.services.base import AidError
from krov.core import audit, inputs, notify, sealing
from krov.core.models import AuditEvent

OPEN_STATUSES = [status for status in HelpRequest.Status.values if status not in {"closed", "spam"}]


class KeysNotReady(AidError):
    """No team key exists yet: nobody could read a sealed request."""


# --- reader keys --------------------------------------------------------------------------------


def may_hold_reader_key(user) -> bool:
    """Coordinators and volunteers with a second factor hold reader keys."""
    return (
        user.is_authenticated
        and user.is_active
        and (is_coordinator(user) or profile_of(user) is not None)
        and account_services.has_mfa(user)
    )


def reader_key_by_id(public_id: str) -> ReaderKey | None:
    uuid = inputs.uuid_or_none(public_id)
    if uuid is None:
        return None
    return (
        ReaderKey.objects.filter(public_id=uuid, revoked_at__isnull=True)
        .select_related("user")
        .first()
    )


def reader_key_of(user) -> ReaderKey | None:
    if not user.is_authenticated:
        return None
    return ReaderKey.objects.filter(user=user, revoked_at__isnull=True).first()


def _check_public_key(public_key: str) -> str:
    """A canonical base64url X25519 public key that something can really be sealed to (a
    low-order point, such as all zeros, is refused)."""
    public_key = (public_key or "").strip()
    if not sealing.is_usable_public_key(public_key):
        raise AidError(_("This is not a public key Krov can use."))
    return public_key


def fingerprint(public_key: str) -> str:
    """A short form of a public key that two people compare out of band."""
    return sealing.fingerprint(public_key)


@transaction.atomic
def register_reader_key(user, *, public_key: str) -> ReaderKey:
    """The public half of a key pair the person made in their browser. A new key replaces
    the old one: what was shared with the old one must be shared again."""
    if not may_hold_reader_key(user):
        raise AidError(_("Only coordinators and volunteers with a second factor hold keys."))
    public_key = _check_public_key(public_key)
    existing = reader_key_of(user)
    if existing is not None and existing.public_key == public_key:
        return existing
    if existing is not None:
        _revoke([existing], actor=user)
    try:
        with transaction.atomic():
            key = ReaderKey.objects.create(user=user, public_key=public_key)
    except IntegrityError:
        raise AidError(_("This key is already in use.")) from None
    audit.record(AuditEvent.Kind.READER_KEY_ADDED, actor=user, subject=user, key=str(key.public_id))
    # The person hears of every new key: one they did not make means someone else holds
    # their session and their second factor.
    notify.notify(user, notices.NEW_KEY)
    return key


def _revoke(keys: list[ReaderKey], *, actor) -> None:
    ids = [key.pk for key in keys]
    TeamKeyGrant.objects.filter(reader_key_id__in=ids).delete()
    CaseKeyGrant.objects.filter(reader_key_id__in=ids).delete()
    ReaderKey.objects.filter(pk__in=ids).update(revoked_at=timezone.now())
    for key in keys:
        audit.record(
            AuditEvent.Kind.READER_KEY_REVOKED,
            actor=actor,
            subject=key.user,
            key=str(key.public_id),
        )


@transaction.atomic
def revoke_reader_keys(user, *, actor=None) -> int:
    """After panic (or a lost role): the person's keys open nothing on this server any more;
    every wrapped copy made for them is deleted."""
    keys = list(ReaderKey.objects.filter(user=user, revoked_at__isnull=True).select_related("user"))
    if keys:
        _revoke(keys, actor=actor)
    return len(keys)


DEVICE_KEY_SESSION = "krov_device_key"


def device_key(session) -> str:
    """A random key kept in the person's session on the server. The browser keeps its
    unlocked reader key only encrypted under it: once the session ends (sign-out, expiry,
    panic), what stays on the device opens nothing without the passphrase."""
    key = session.get(DEVICE_KEY_SESSION)
    if not key:
        key = secrets.token_urlsafe(32)
        session[DEVICE_KEY_SESSION] = key
    return key


# --- the team key -------------------------------------------------------------------------------


def current_team_key() -> TeamKey | None:
    return TeamKey.objects.filter(retired_at__isnull=True).order_by("-created_at").first()


def sealing_ready() -> bool:
    """A current team key exists, so what comes in is sealed from now on. The Telegram
    webhook asks it for every update, so it is one plain SELECT written once per process
    (the ORM's query building cost more than the query). Never cached: the first team key
    seals the very next update."""
    db = connections[DEFAULT_DB_ALIAS]
    with db.cursor() as cursor:
        cursor.execute(_sealing_ready_sql(db.vendor))
        return cursor.fetchone() is not None


@functools.cache
def _sealing_ready_sql(vendor: str) -> str:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    retired = TeamKey._meta.get_field("retired_at").column
    return (
        f"SELECT 1 FROM {quote(TeamKey._meta.db_table)} "  # noqa: S608 - names from the model
        f"WHERE {quote(str(retired))} IS NULL LIMIT 1"
    )


def team_key_grant_for(user) -> TeamKeyGrant | None:
    """The current team key, wrapped to this coordinator's reader key, if shared with them."""
    key = reader_key_of(user)
    team = current_team_key()
    if key is None or team is None or not holds_team_key_role(user):
        return None
    return TeamKeyGrant.objects.filter(team_key=team, reader_key=key).first()


@transaction.atomic
def create_team_key(*, actor, public_key: str, wrapped_for_self: str) -> TeamKey:
    """The first team key, made in a coordinator's browser and wrapped to their own key."""
    if not is_coordinator(actor):
        raise AidError(_("Only coordinators can do this."))
    reader = reader_key_of(actor)
    if reader is None:
        raise AidError(_("Make your own key first."))
    if TeamKey.objects.select_for_update().filter(retired_at__isnull=True).exists():
        raise AidError(_("The team already has a key; ask a coordinator to share it with you."))
    if not sealing.is_sealed(wrapped_for_self):
        raise AidError(_("The wrapped team key is missing."))
    team = TeamKey.objects.create(public_key=_check_public_key(public_key), created_by=actor)
    TeamKeyGrant.objects.create(
        team_key=team, reader_key=reader, wrapped=wrapped_for_self, granted_by=actor
    )
    audit.record(AuditEvent.Kind.TEAM_KEY_CREATED, actor=actor, key=str(team.public_id))
    return team


def team_key_rotation_due(now=None) -> bool:
    """A team key lives one retention period: after that its successor takes over and its
    private half is destroyed, so a backup or WAL from before opens for nobody. It is due at
    once when a coordinator left or pressed panic."""
    team = current_team_key()
    now = now or timezone.now()
    return team is not None and (
        team.renewal_requested_at is not None
        or team.created_at <= now - timedelta(days=settings.KROV_RETENTION_DAYS)
    )


def request_team_key_renewal() -> None:
    """A coordinator left (or pressed panic): the next coordinator's Krov renews the key."""
    TeamKey.objects.filter(retired_at__isnull=True, renewal_requested_at__isnull=True).update(
        renewal_requested_at=timezone.now()
    )


def rotation_holders(actor) -> list[dict]:
    """The other coordinators who hold the current team key: the renewing browser wraps the
    new one to their keys at once (they were trusted with the old one), so nobody is cut
    off by a renewal."""
    own = team_key_grant_for(actor)
    if own is None:
        return []
    grants = (
        TeamKeyGrant.objects.filter(team_key=own.team_key, reader_key__revoked_at__isnull=True)
        .exclude(pk=own.pk)
        .select_related("reader_key__user__custodian")
    )
    return [
        {"reader_key": str(g.reader_key.public_id), "public_key": g.reader_key.public_key}
        for g in grants
        if holds_team_key_role(g.reader_key.user)
    ]


def rotation_material(actor) -> list[dict]:
    """Every case key wrapped to the current team key, for the rotating browser to re-wrap."""
    if team_key_grant_for(actor) is None:
        return []
    return _wrapped_to(current_team_key())


def _wrapped_to(team: TeamKey | None, *, only: set[str] | None = None) -> list[dict]:
    grants = CaseKeyGrant.objects.filter(team_key=team).select_related("request")
    pending = PendingCaseKey.objects.filter(team_key=team)
    if only is not None:
        grants = grants.filter(request__public_id__in=only)
        pending = pending.filter(case_id__in=only)
    return [
        {"case": str(grant.request.public_id), "case_key": grant.wrapped} for grant in grants
    ] + [{"case": str(key.case_id), "case_key": key.wrapped} for key in pending]


class RotationChanged(AidError):
    """Cases or coordinators came while the browser re-wrapped: what it still has to wrap
    (`cases`: case keys wrapped to the old team key; `holders`: coordinators' public keys).
    The browser wraps those and sends everything again, so a renewal finishes however busy
    intake is: each round only has what arrived during the last one."""

    def __init__(self, cases: list[dict], holders: list[dict]):
        super().__init__(_("Cases changed while the key was renewed; please try again."))
        self.cases, self.holders = cases, holders


@transaction.atomic
def rotate_team_key(
    *,
    actor,
    public_key: str,
    wrapped_for_self: str,
    cases: dict[str, str],
    holders: dict[str, str] | None = None,
) -> TeamKey:
    """A coordinator's browser made a new team key and re-wrapped every case key to it
    (`cases`: case id → wrapped key). The old team key's every wrapped copy is deleted:
    its private half exists nowhere any more."""
    own = team_key_grant_for(actor)
    if own is None:
        raise AidError(_("Only a coordinator who holds the team key can renew it."))
    old = TeamKey.objects.select_for_update().get(pk=own.team_key_id)
    if old.retired_at is not None:
        raise AidError(_("The team key has just been renewed by someone else."))
    expected = {
        str(public_id): pk
        for pk, public_id in CaseKeyGrant.objects.filter(team_key=old).values_list(
            "request_id", "request__public_id"
        )
    }
    pending = {
        str(key.case_id): key
        for key in PendingCaseKey.objects.select_for_update().filter(team_key=old)
    }
    holders = holders or {}
    current_holders = rotation_holders(actor)
    missing = (set(expected) | set(pending)) - set(cases)
    missing_holders = [item for item in current_holders if item["reader_key"] not in holders]
    if missing or missing_holders:
        raise RotationChanged(_wrapped_to(old, only=missing), missing_holders)
    # Cases purged and coordinators revoked meanwhile are left out: nothing is made for them.
    expected_holders = {item["reader_key"] for item in current_holders}
    cases = {
        case_id: wrapped
        for case_id, wrapped in cases.items()
        if case_id in expected or case_id in pending
    }
    holders = {key: wrapped for key, wrapped in holders.items() if key in expected_holders}
    if not sealing.is_sealed(wrapped_for_self) or not all(
        sealing.is_sealed(wrapped) for wrapped in [*cases.values(), *holders.values()]
    ):
        raise AidError(_("The wrapped keys are missing."))
    team = TeamKey.objects.create(public_key=_check_public_key(public_key), created_by=actor)
    TeamKeyGrant.objects.create(
        team_key=team, reader_key=own.reader_key, wrapped=wrapped_for_self, granted_by=actor
    )
    for reader_id, wrapped in holders.items():
        TeamKeyGrant.objects.create(
            team_key=team,
            reader_key=ReaderKey.objects.get(public_id=reader_id),
            wrapped=wrapped,
            granted_by=actor,
        )
    CaseKeyGrant.objects.bulk_create(
        CaseKeyGrant(request_id=expected[case_id], team_key=team, wrapped=wrapped)
        for case_id, wrapped in cases.items()
        if case_id in expected
    )
    for case_id, key in pending.items():
        PendingCaseKey.objects.filter(pk=key.pk).update(team_key=team, wrapped=cases[case_id])
    CaseKeyGrant.objects.filter(team_key=old).delete()
    TeamKeyGrant.objects.filter(team_key=old).delete()
    TeamKey.objects.filter(pk=old.pk).update(retired_at=timezone.now())
    audit.record(
        AuditEvent.Kind.TEAM_KEY_CREATED,
        actor=actor,
        key=str(team.public_id),
        replaces=str(old.public_id),
        cases=len(cases),
    )
    return team


def coordinators_waiting_for_team_key() -> list[ReaderKey]:
    """Coordinators' (and key custodians') reader keys the current team key is not yet
    shared with."""
    team = current_team_key()
    if team is None:
        return []
    granted = TeamKeyGrant.objects.filter(team_key=team, reader_key=OuterRef("pk"))
    keys = (
        ReaderKey.objects.filter(revoked_at__isnull=True, user__is_active=True)
        .exclude(Exists(granted))
        .select_related("user__custodian")
    )
    return [key for key in keys if holds_team_key_role(key.user)]


@transaction.atomic
def grant_team_key(*, actor, reader_key: ReaderKey, wrapped: str) -> TeamKeyGrant:
    """A coordinator who holds the team key shares it with another coordinator."""
    own = team_key_grant_for(actor)
    if own is None:
        raise AidError(_("Only a coordinator who holds the team key can share it."))
    if reader_key.revoked_at is not None or not holds_team_key_role(reader_key.user):
        raise AidError(_("The team key is shared only with coordinators."))
    if not sealing.is_sealed(wrapped):
        raise AidError(_("The wrapped team key is missing."))
    # Locked as a renewal locks it: a renewal that started first has either counted this
    # holder, or has retired the key by the time we get the lock (then share the new one).
    team = TeamKey.objects.select_for_update().get(pk=own.team_key_id)
    if team.retired_at is not None:
        raise AidError(_("The team key has just been renewed; share the new one."))
    grant, _created = TeamKeyGrant.objects.get_or_create(
        team_key=team, reader_key=reader_key, defaults={"wrapped": wrapped, "granted_by": actor}
    )
    audit.record(
        AuditEvent.Kind.TEAM_KEY_GRANTED,
        actor=actor,
        subject=reader_key.user,
        key=str(team.public_id),
    )
    return grant


# --- case keys ----------------------------------------------------------------------------------


# What intake seals. The contact handle (a Telegram requester's chat id) is sealed too: the
# relay reaches the chat through the running workers' keys, or through the case key a reader
# hands to a worker (krov.telegram.chat_ids).
SEALED_REQUEST_FIELDS = {
    "description": "request.description",
    "region": "request.region",
    "contact_handle": "request.contact",
}


def _give_case_key(
    case: HelpRequest, token: str, team: TeamKey | None = None
) -> tuple[TeamKey, bytes]:
    """A new key pair for `case` (not saved yet): its public half on the case, the private
    half wrapped under the requester's link; the case's own texts are sealed to it."""
    # Locked, so that a renewal running now cannot retire it under this case.
    current = TeamKey.objects.select_for_update().filter(retired_at__isnull=True)
    team = current.filter(pk=team.pk).first() if team is not None else None
    team = team or current.order_by("-created_at").first()
    if team is None:
        raise KeysNotReady(_("Krov cannot take requests yet: no coordinator has set up keys."))
    pair = sealing.KeyPair.generate()
    case_id = str(case.public_id)
    case.seal_public = pair.public
    case.requester_wrap = (
        sealing.wrap(pair.private, sealing.requester_key(token, case_id), case_id) if token else ""
    )
    for name, field in SEALED_REQUEST_FIELDS.items():
        setattr(case, name, seal_text(case, field, getattr(case, name)))
    return team, pair.private


def _wrap_for_team(case: HelpRequest, team: TeamKey, private: bytes) -> None:
    info = sealing.case_key_info(str(case.public_id))
    CaseKeyGrant.objects.create(
        request=case, team_key=team, wrapped=sealing.seal_bytes(private, team.public_key, info)
    )


def seal_new_case(case: HelpRequest, *, token: str = "", team: TeamKey | None = None) -> None:
    """Store a new case sealed: it gets a key pair, its texts are sealed to the public half
    before the row is first written, and the private half is wrapped to the team key (and
    under the requester's link) and then forgotten. Call inside the intake transaction."""
    team, private = _give_case_key(case, token, team)
    case.save(force_insert=True)
    _wrap_for_team(case, team, private)


def seal_existing_case(case: HelpRequest, *, token: str = "") -> bool:
    """Seal a case taken in before sealing was set up: its texts, messages and notes are
    rewritten sealed to a new case key, wrapped to the team key (and under the requester's
    link when it is given, as on the requester's next visit). False when there is nothing
    to do. The old field-key ciphertext may survive in the WAL and in backups until the field
    keys are rotated (`krov rotate-keys`) and the old one destroyed."""
    with transaction.atomic():
        case = HelpRequest.objects.select_for_update().get(pk=case.pk)
        if case.is_sealed or case.purged_at is not None:
            return False
        team, private = _give_case_key(case, token)
        case.save(update_fields=["seal_public", "requester_wrap", *SEALED_REQUEST_FIELDS])
        for message in Message.objects.filter(request=case):
            message.body = seal_text(case, "message", message.body)
            message.attachment_ref = seal_text(case, "message.attachment", message.attachment_ref)
            message.save(update_fields=["body", "attachment_ref"])
        for note in Note.objects.filter(request=case):
            note.body = seal_text(case, "note", note.body)
            note.save(update_fields=["body"])
        _wrap_for_team(case, team, private)
    return True


def sealable_cases(*, include_open: bool):
    """Cases from before sealing."""
    found = HelpRequest.objects.filter(seal_public="", purged_at__isnull=True)
    return found if include_open else found.exclude(status__in=OPEN_STATUSES)


PENDING_KEY_HOURS = 24


def prepare_case_key() -> PendingCaseKey | None:
    """A key pair for a case that does not exist yet (a Telegram requester describing their
    need): the private half wrapped to the team key at once. None without a team key."""
    team = None
    for _attempt in range(3):  # a renewal may commit while we wait for its lock: look again
        team = TeamKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        if team is not None:
            break
    if team is None:
        return None
    pair = sealing.KeyPair.generate()
    case_id = uuid.uuid4()
    return PendingCaseKey.objects.create(
        case_id=case_id,
        public_key=pair.public,
        team_key=team,
        wrapped=sealing.seal_bytes(
            pair.private, team.public_key, sealing.case_key_info(str(case_id))
        ),
    )


def pending_key(case_id) -> PendingCaseKey | None:
    return PendingCaseKey.objects.filter(case_id=case_id).first() if case_id else None


def seal_pending(pending: PendingCaseKey, field: str, text: str) -> str:
    return sealing.seal(text, pending.public_key, sealing.content_info(str(pending.case_id), field))


def adopt_pending_key(case: HelpRequest, pending: PendingCaseKey) -> None:
    """The new case takes the pending key over (its id is the pending key's case id). The
    pending row is read again under a lock: a renewal may have re-wrapped it meanwhile."""
    pending = PendingCaseKey.objects.select_for_update().get(pk=pending.pk)
    if not TeamKey.objects.filter(pk=pending.team_key_id, retired_at__isnull=True).exists():
        raise AidError(_("The request could not be stored; please try again."))
    HelpRequest.objects.filter(pk=case.pk).update(seal_public=pending.public_key)
    case.seal_public = pending.public_key
    CaseKeyGrant.objects.create(
        request=case, team_key_id=pending.team_key_id, wrapped=pending.wrapped
    )
    pending.delete()


def discard_pending_key(case_id) -> None:
    PendingCaseKey.objects.filter(case_id=case_id).delete()


def purge_pending_keys(now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(hours=PENDING_KEY_HOURS)
    deleted, _detail = PendingCaseKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def seal_text(case: HelpRequest, field: str, text: str) -> str:
    """`text` as it is stored for this case: sealed to the case's key (field is one of the
    names in sealing.content_info), or as it is for a case from before sealing."""
    if not case.seal_public or not text:
        return text
    return sealing.seal(text, case.seal_public, sealing.content_info(str(case.public_id), field))


def requester_case_key(case: HelpRequest, token: str) -> bytes | None:
    """The case's private key, opened with the requester's secret link for the length of one
    request (the page without JavaScript); None for a case without a link wrap."""
    if not case.requester_wrap:
        return None
    case_id = str(case.public_id)
    return sealing.unwrap(case.requester_wrap, sealing.requester_key(token, case_id), case_id)


def requester_conversation(
    case: HelpRequest, token: str, *, open_here: bool = True
) -> list[Message]:
    """The messages of a case as its requester reads them. For a sealed case the requester's
    browser opens them with the key its link derives (aid/requester.js); with `open_here`
    (the page without JavaScript) the server opens them with that key, in memory, for this
    one request (docs/threat-model.md says what that means)."""
    if not case.is_sealed and case.channel == HelpRequest.Channel.WEB and sealing_ready():
        # A case from before sealing is sealed on its requester's first visit: only now is
        # the link here to wrap its key for them.
        seal_existing_case(case, token=token)
        case.refresh_from_db()
    messages = list(case.messages.all())
    if not open_here:
        return messages
    try:
        case_key = requester_case_key(case, token)
    except sealing.SealingError:
        case_key = None
    info = sealing.content_info(str(case.public_id), "message")
    for message in messages:
        if not sealing.is_sealed(message.body):
            continue
        message.plaintext = _("This message was sealed for the volunteers only.")
        if case_key is not None:
            try:
                message.plaintext = sealing.open_sealed(message.body, case_key, info)
            except sealing.SealingError:
                message.plaintext = _("This message cannot be opened.")
    return messages


def requester_request_text(case: HelpRequest, token: str, *, open_here: bool) -> str | None:
    """What the requester asked, as their page shows it: the text of a case from before
    sealing; for a sealed one, opened here only with `open_here` (as the conversation), or
    None: their browser opens it."""
    if not sealing.is_sealed(case.description):
        return case.description
    if not open_here:
        return None
    try:
        case_key = requester_case_key(case, token)
        if case_key is not None:
            info = sealing.content_info(str(case.public_id), "request.description")
            return sealing.open_sealed(case.description, case_key, info)
    except sealing.SealingError:
        pass
    return _("Your request was sealed for the volunteers only.")


def wrapped_case_key_for(user, case: HelpRequest) -> dict | None:
    """What the reader's browser needs to open this case: the case key wrapped to a key it
    holds, and for a coordinator the team key wrapped to their reader key."""
    reader = reader_key_of(user)
    if reader is None or not case.is_sealed:
        return None
    # `case_public`: the browser checks that the key it opens is this case's, so a copy
    # wrapped around some other key (by a session or token without the team key) is
    # reported and shared again instead of leaving the case unreadable.
    own = CaseKeyGrant.objects.filter(request=case, reader_key=reader).first()
    if own is not None:
        return {
            "case_key": own.wrapped,
            "case_public": case.seal_public,
            "team_key": "",
            "team_public": "",
        }
    team_grant = team_key_grant_for(user)
    if team_grant is None:
        return None
    via_team = CaseKeyGrant.objects.filter(request=case, team_key=team_grant.team_key).first()
    if via_team is None:
        return None
    return {
        "case_key": via_team.wrapped,
        "case_public": case.seal_public,
        "team_key": team_grant.wrapped,
        "team_public": team_grant.team_key.public_key,
    }


def wrapped_case_keys_for(user, cases: list[HelpRequest]) -> dict[int, dict]:
    """wrapped_case_key_for for many cases at once, in a fixed number of queries (a
    coordinator's open Krov asks every 20 seconds): {case pk: keys} for those it can open."""
    reader = reader_key_of(user)
    sealed = [case for case in cases if case.is_sealed]
    if reader is None or not sealed:
        return {}
    found: dict[int, dict] = {}
    by_pk = {case.pk: case for case in sealed}
    for grant in CaseKeyGrant.objects.filter(request_id__in=list(by_pk), reader_key=reader):
        case = by_pk[grant.request_id]
        found[case.pk] = {
            "case_key": grant.wrapped,
            "case_public": case.seal_public,
            "team_key": "",
            "team_public": "",
        }
    team_grant = team_key_grant_for(user)
    rest = [pk for pk in by_pk if pk not in found]
    if team_grant is None or not rest:
        return found
    for grant in CaseKeyGrant.objects.filter(request_id__in=rest, team_key=team_grant.team_key):
        case = by_pk[grant.request_id]
        found[case.pk] = {
            "case_key": grant.wrapped,
            "case_public": case.seal_public,
            "team_key": team_grant.wrapped,
            "team_public": team_grant.team_key.public_key,
        }
    return found


def pending_case_grants(actor) -> list[dict]:
    """Cases whose volunteer cannot open them yet, for a coordinator's browser to share:
    the case key wrapped to the team, and the volunteer's public key."""
    team_grant = team_key_grant_for(actor)
    if team_grant is None:
        return []
    cases = list(
        HelpRequest.objects.open()
        .filter(assignee__isnull=False)
        .exclude(seal_public="")
        .select_related("assignee")
    )
    # A fixed number of queries however many cases are open (this runs every 20 seconds in
    # every coordinator's open Krov).
    readers = {
        key.user_id: key
        for key in ReaderKey.objects.filter(
            user_id__in={case.assignee.user_id for case in cases}, revoked_at__isnull=True
        )
    }
    grants = CaseKeyGrant.objects.filter(request__in=cases)
    shared = set(grants.filter(reader_key__isnull=False).values_list("request_id", "reader_key_id"))
    via_team_of = {grant.request_id: grant for grant in grants.filter(team_key=team_grant.team_key)}
    found = []
    for case in cases:
        reader = readers.get(case.assignee.user_id)
        if reader is None or (case.pk, reader.pk) in shared:
            continue
        via_team = via_team_of.get(case.pk)
        if via_team is None:
            continue
        found.append(
            {
                "case": str(case.public_id),
                "case_key": via_team.wrapped,
                "reader_key": str(reader.public_id),
                "reader_public": reader.public_key,
            }
        )
    return found


@transaction.atomic
def grant_case_key(
    case: HelpRequest, *, actor, reader_key: ReaderKey, wrapped: str
) -> CaseKeyGrant:
    """A coordinator's browser shares a case's key with the volunteer who holds the case."""
    if team_key_grant_for(actor) is None:
        raise AidError(_("Only a coordinator who holds the team key can share case keys."))
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if (
        not case.is_open
        or case.assignee is None
        or reader_key.revoked_at is not None
        or reader_key.user_id != case.assignee.user_id
    ):
        raise AidError(_("This case is no longer with that volunteer."))
    if not sealing.is_sealed(wrapped):
        raise AidError(_("The wrapped case key is missing."))
    grant, _created = CaseKeyGrant.objects.get_or_create(
        request=case, reader_key=reader_key, defaults={"wrapped": wrapped, "granted_by": actor}
    )
    audit.record(
        AuditEvent.Kind.CASE_KEY_GRANTED,
        actor=actor,
        subject=reader_key.user,
        target=f"case:{case.public_id}",
    )
    return grant


def report_unopenable_case_key(case: HelpRequest, user) -> bool:
    """A volunteer's browser could not open the copy of the case key made for it (damaged,
    or made for another key): it goes, so a coordinator's browser shares it again."""
    reader = reader_key_of(user)
    if reader is None:
        return False
    deleted, _detail = CaseKeyGrant.objects.filter(request=case, reader_key=reader).delete()
    return bool(deleted)


def withdraw_case_keys(case: HelpRequest) -> int:
    """The case left its volunteer (hand-over, release, close): their copy of its key goes."""
    deleted, _detail = CaseKeyGrant.objects.filter(request=case, reader_key__isnull=False).delete()
    return deleted


def destroy_case_keys(case: HelpRequest) -> None:
    """Purge: every wrapped copy of the case key goes, so nothing opens its rows any more,
    in this database or in any copy of it made after the team key rotates."""
    CaseKeyGrant.objects.filter(request=case).delete()
    HelpRequest.objects.filter(pk=case.pk).update(requester_wrap="")
