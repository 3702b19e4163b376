"""Accounts: creating people, roles, MFA requirements and sessions. Views, the admin,
commands and other apps call these; none of them changes a user's roles directly."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import LazyObject
from django.utils.translation import gettext as _

from krov.accounts import roles as role_defs
from krov.accounts.models import RoleGrant, UnlockRequest, User, new_security_stamp
from krov.core import audit
from krov.core.models import AuditEvent

# Sent inside the panic transaction; other apps (aid, telegram) undo what the account could
# reach: return its cases to triage, unlink its channels. Arguments: user, via.
panic_pressed = Signal()
# Sent when an account's last second factor (TOTP or security key) is removed. Every path to
# case content needs one: aid pauses the volunteer, telegram unlinks their chat. Argument: user.
second_factor_lost = Signal()


class AccountError(Exception):
    """A request about accounts that cannot be done; the message is for people."""


_role_actor: contextvars.ContextVar[User | None] = contextvars.ContextVar(
    "krov_role_actor", default=None
)


@contextmanager
def acting_as(actor: User | None) -> Iterator[None]:
    """Attribute role changes made inside the block (e.g. by the admin) to `actor`."""
    token = _role_actor.set(actor)
    try:
        yield
    finally:
        _role_actor.reset(token)


def current_role_actor() -> User | None:
    return _role_actor.get()


@transaction.atomic
def create_account(
    *,
    email: str,
    pseudonym: str,
    password: str | None,
    roles: Iterable[str] = (role_defs.MEMBER,),
    email_verified: bool = False,
    actor: User | None = None,
    language: str | None = None,
) -> User:
    if User.objects.filter(pseudonym__iexact=pseudonym).exists():
        raise AccountError(_("This pseudonym is taken."))
    user = User.objects.create_user(
        email=email,
        password=password,
        pseudonym=pseudonym,
        language=supported_language(language or settings.LANGUAGE_CODE),
    )
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=email_verified)
    set_roles(user, roles, actor=actor)
    return user


def user_roles(user: User) -> set[str]:
    if not user.is_authenticated:
        return set()
    # Kept on the User itself, not on request.user's lazy wrapper: the middleware asks
    # through the wrapper, User.has_perm through the instance, and both get one query.
    held = _instance(user)
    cached = held.__dict__.get("_krov_roles")
    if cached is None:
        cached = set(
            held.groups.filter(name__in=role_defs.ROLE_ORDER).values_list("name", flat=True)
        )
        held.__dict__["_krov_roles"] = cached
    return cached


def forget_roles(user: User) -> None:
    """The next user_roles(user) asks the database again (after the roles changed)."""
    _instance(user).__dict__.pop("_krov_roles", None)


def _instance(user):
    return user._wrapped if isinstance(user, LazyObject) else user


@transaction.atomic
def set_roles(
    user: User, roles: Iterable[str], *, actor: User | None, confirmed_by: User | None = None
) -> None:
    """Give `user` exactly `roles` (member is always kept). Audited by the m2m receiver.

    A person (`actor`) cannot add a role that opens cases on their own: that goes through
    `request_role`, and only `confirm_role_grant` or a coordinator's vouch (`confirmed_by`)
    lands here with it. `actor=None` is the operator at the server (commands, demo data).
    """
    wanted = set(roles) | {role_defs.MEMBER}
    unknown = wanted - set(role_defs.ROLE_ORDER)
    if unknown:
        raise AccountError(f"Unknown role: {', '.join(sorted(unknown))}")
    if user.is_service_account and wanted != {role_defs.MEMBER}:
        raise AccountError(_("A service account takes no roles."))
    added = wanted - user_roles(user)
    added_case_roles = added & role_defs.CASE_ROLES
    if added & role_defs.SECOND_PERSON_ROLES and actor is not None and confirmed_by is None:
        raise AccountError(_("This role needs a second person's confirmation."))
    groups = list(Group.objects.filter(name__in=wanted))
    with acting_as(actor):
        user.groups.set(groups)
    staff = role_defs.ADMIN in wanted
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    forget_roles(user)
    if added_case_roles:
        _announce_case_roles(user, added_case_roles, actor=actor, confirmed_by=confirmed_by)


def active_coordinators():
    return User.objects.filter(groups__name=role_defs.COORDINATOR, is_active=True).distinct()


def _announce_case_roles(
    user: User, added: set[str], *, actor: User | None, confirmed_by: User | None
) -> None:
    """Every coordinator hears of a new volunteer or coordinator: a wrong grant is seen."""
    from krov.accounts import notices
    from krov.core import notify

    params = {
        "pseudonym": user.pseudonym,
        "roles": sorted(added),
        "actor": actor.pseudonym if actor else "",  # nobody: the server operator
        "confirmer": confirmed_by.pseudonym if confirmed_by else "",
    }
    for coordinator in active_coordinators().exclude(pk=user.pk):
        notify.notify(coordinator, notices.CASE_ROLE_GRANTED, params=params)


def change_roles(user: User, roles: Iterable[str], *, actor: User) -> list[RoleGrant]:
    """What the admin's role form does: roles that open cases become requests.

    Returns the requests made (empty when every change could be applied at once).
    """
    wanted = set(roles) | {role_defs.MEMBER}
    current = user_roles(user)
    needs_second = (wanted - current) & role_defs.SECOND_PERSON_ROLES
    with transaction.atomic():
        set_roles(user, wanted - needs_second, actor=actor)
        return [request_role(user, role, actor=actor) for role in sorted(needs_second)]


@transaction.atomic
def request_role(user: User, role: str, *, actor: User) -> RoleGrant:
    if role not in role_defs.SECOND_PERSON_ROLES:
        raise AccountError(_("Only the admin role and roles that open cases need a second person."))
    if user.is_service_account:
        raise AccountError(_("A service account takes no roles."))
    pending = RoleGrant.objects.filter(user=user, role=role, status=RoleGrant.Status.PENDING)
    grant = pending.first()
    if grant is not None:
        return grant
    try:
        with transaction.atomic():
            grant = RoleGrant.objects.create(user=user, role=role, requested_by=actor)
    except IntegrityError:  # the same request twice at once: one row, the first
        found = pending.first()
        if found is None:
            raise
        return found
    audit.record(AuditEvent.Kind.ROLE_REQUESTED, actor=actor, subject=user, role=role)
    return grant


# A request for a role waits this long for a second person, then lapses.
ROLE_GRANT_VALID = timedelta(days=14)


def may_confirm(actor) -> bool:
    """Who may be the second person at all: an administrator or a coordinator."""
    return bool(
        actor.is_authenticated
        and actor.is_active
        and (
            actor.has_perm("accounts.manage_roles")
            or actor.has_perm("accounts.triage_help_requests")
        )
    )


def is_second_person(request: RoleGrant | UnlockRequest, actor: User) -> bool:
    """The rule for both kinds of request: someone who may confirm, never the one who asked,
    never the subject, and never someone whose own role that requester asked for (a second
    account made by the requester is not a second person)."""
    if not may_confirm(actor) or actor.pk in {request.requested_by_id, request.user_id}:
        return False
    return not RoleGrant.objects.filter(
        user=actor, requested_by_id=request.requested_by_id, status=RoleGrant.Status.CONFIRMED
    ).exists()


can_decide_role_grant = is_second_person
can_decide_unlock = is_second_person


def pending_role_grants(actor: User):
    grants = RoleGrant.objects.filter(
        status=RoleGrant.Status.PENDING, requested_at__gte=timezone.now() - ROLE_GRANT_VALID
    ).select_related("user", "requested_by")
    return [g for g in grants if can_decide_role_grant(g, actor)]


@transaction.atomic
def confirm_role_grant(grant: RoleGrant, *, actor: User) -> None:
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != RoleGrant.Status.PENDING:
        raise AccountError(_("This request was already decided."))
    if not can_decide_role_grant(grant, actor):
        raise AccountError(_("Someone else must confirm this request."))
    if not grant.user.is_active:
        raise AccountError(_("This account is locked."))
    asker = grant.requested_by
    if timezone.now() - grant.requested_at > ROLE_GRANT_VALID or not (
        asker is not None and asker.is_active and asker.has_perm("accounts.manage_roles")
    ):
        # Old, or its requester is no administrator any more: nobody stands behind it.
        raise AccountError(_("This request has lapsed; ask again if it is still wanted."))
    grant.status, grant.decided_by, grant.decided_at = (
        RoleGrant.Status.CONFIRMED,
        actor,
        timezone.now(),
    )
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(
        AuditEvent.Kind.ROLE_CONFIRMED,
        actor=actor,
        subject=grant.user,
        role=grant.role,
        requested_by=grant.requested_by.pseudonym if grant.requested_by else "",
    )
    set_roles(
        grant.user,
        user_roles(grant.user) | {grant.role},
        actor=grant.requested_by or actor,
        confirmed_by=actor,
    )


@transaction.atomic
def refuse_role_grant(grant: RoleGrant, *, actor: User) -> None:
    grant = RoleGrant.objects.select_for_update().get(pk=grant.pk)
    if grant.status != RoleGrant.Status.PENDING:
        raise AccountError(_("This request was already decided."))
    if not can_decide_role_grant(grant, actor):
        raise AccountError(_("Someone else must decide this request."))
    grant.status, grant.decided_by, grant.decided_at = (
        RoleGrant.Status.REFUSED,
        actor,
        timezone.now(),
    )
    grant.save(update_fields=["status", "decided_by", "decided_at"])
    audit.record(AuditEvent.Kind.ROLE_REFUSED, actor=actor, subject=grant.user, role=grant.role)


def requires_mfa(user: User) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return bool(user_roles(user) & set(settings.KROV_MFA_REQUIRED_ROLES))


def has_mfa(user: User) -> bool:
    return Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).exists()


def end_other_sessions(request: HttpRequest | None, user: User) -> None:
    """Invalidate every session of `user` except the one making this request."""
    user.security_stamp = new_security_stamp()
    user.save(update_fields=["security_stamp"])
    if request is not None and getattr(request, "user", None) == user:
        update_session_auth_hash(request, user)


def delete_sessions_of(user: User) -> None:
    """Remove the stored sessions of `user` (the security stamp already voids them)."""
    key = str(user.pk)
    doomed = [
        session.session_key
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get("_auth_user_id") == key
    ]
    Session.objects.filter(session_key__in=doomed).delete()


@transaction.atomic
def panic(user: User, *, via: str) -> None:
    """Lock `user` now: end every session, lock the account, tell the other apps.

    `via` is "button" or "duress". Only an administrator can unlock (see `unlock`).
    """
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_active = False
    user.security_stamp = new_security_stamp()
    user.locked_by_panic_at = timezone.now()
    user.save(update_fields=["is_active", "security_stamp", "locked_by_panic_at"])
    # The new stamp already voids every session; removing the rows scans the session table,
    # which the worker does, so a duress sign-in takes no longer than a wrong password.
    from krov.accounts import tasks

    user_id = user.pk
    transaction.on_commit(lambda: tasks.delete_sessions_of(user_id))
    audit.record(AuditEvent.Kind.PANIC, actor=user, subject=user, via=via)
    panic_pressed.send(sender=User, user=user, via=via)


@transaction.atomic
def request_unlock(user: User, *, actor: User) -> UnlockRequest:
    """An administrator asks to lift a panic lock; a second person confirms (confirm_unlock)."""
    if not actor.has_perm("accounts.manage_roles"):
        raise AccountError(_("Only an administrator can unlock an account."))
    user = User.objects.get(pk=user.pk)  # the lock as it is now, not as the caller saw it
    if user.is_active:
        raise AccountError(_("This account is not locked."))
    pending = UnlockRequest.objects.filter(user=user, status=UnlockRequest.Status.PENDING)
    found = pending.first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            made = UnlockRequest.objects.create(user=user, requested_by=actor)
    except IntegrityError:
        found = pending.first()
        if found is None:
            raise
        return found
    audit.record(AuditEvent.Kind.UNLOCK_REQUESTED, actor=actor, subject=user)
    return made


def pending_unlocks(actor: User) -> list[UnlockRequest]:
    found = UnlockRequest.objects.filter(
        status=UnlockRequest.Status.PENDING, requested_at__gte=timezone.now() - ROLE_GRANT_VALID
    ).select_related("user", "requested_by")
    return [r for r in found if can_decide_unlock(r, actor)]


@transaction.atomic
def decide_unlock(request: UnlockRequest, *, actor: User, confirm: bool) -> None:
    request = UnlockRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != UnlockRequest.Status.PENDING:
        raise AccountError(_("This request was already decided."))
    if not can_decide_unlock(request, actor):
        raise AccountError(_("Someone else must decide this request."))
    request.status = UnlockRequest.Status.CONFIRMED if confirm else UnlockRequest.Status.REFUSED
    request.decided_by, request.decided_at = actor, timezone.now()
    request.save(update_fields=["status", "decided_by", "decided_at"])
    if confirm:
        unlock(request.user, actor=request.requested_by or actor, confirmed_by=actor)
    else:
        audit.record(AuditEvent.Kind.UNLOCK_REFUSED, actor=actor, subject=request.user)


@transaction.atomic
def unlock(user: User, *, actor: User, confirmed_by: User | None = None) -> None:
    """Lift a panic lock: an administrator asked, a second person confirmed (decide_unlock)."""
    if not actor.has_perm("accounts.manage_roles"):
        raise AccountError(_("Only an administrator can unlock an account."))
    if confirmed_by is None or confirmed_by.pk == actor.pk:
        raise AccountError(_("Unlocking needs a second person's confirmation."))
    # The lock may have come from a duress sign-in: whoever forced it may know the password
    # (and the duress password). The person sets a new one through the emailed reset link.
    user.is_active = True
    user.locked_by_panic_at = None
    user.set_unusable_password()
    user.duress_password = ""
    user.security_stamp = new_security_stamp()
    user.save(
        update_fields=[
            "is_active",
            "locked_by_panic_at",
            "password",
            "duress_password",
            "security_stamp",
        ]
    )
    audit.record(
        AuditEvent.Kind.ACCOUNT_UNLOCKED,
        actor=actor,
        subject=user,
        confirmed_by=confirmed_by.pseudonym,
    )


@transaction.atomic
def set_duress_password(user: User, raw: str, *, actor: User) -> None:
    """Set (or with "" remove) the password that locks the account when typed at sign-in."""
    if raw and user.check_password(raw):
        raise AccountError(_("The duress password must differ from your password."))
    if raw and len(raw) < 8:
        raise AccountError(_("The duress password must be at least 8 characters long."))
    user.duress_password = make_password(raw) if raw else ""
    user.save(update_fields=["duress_password"])
    audit.record(AuditEvent.Kind.DURESS_SET, actor=actor, subject=user, removed=not raw)


# --- a person's own settings ---------------------------------------------------------------


def supported_language(code: str | None) -> str:
    """`code` if Krov speaks it (or its base language: "ru-ru" -> "ru"), else the default."""
    from krov.core.services import interface_languages

    code = (code or "").lower()
    languages = interface_languages()
    if code in languages:
        return code
    base = code.split("-")[0]
    return base if base in languages else settings.LANGUAGE_CODE


def clean_pseudonym(raw: str, *, user: User | None = None) -> str:
    """The pseudonym as kept (spaces collapsed), or AccountError: too short or long, or
    someone else's in any letter case."""
    pseudonym = " ".join((raw or "").split())
    if not 2 <= len(pseudonym) <= 40:
        raise AccountError(_("A pseudonym has between 2 and 40 characters."))
    if pseudonym.lower().startswith("custodian:"):
        # Reserved for key custodians' service accounts (krov.aid.services.custodians).
        raise AccountError(_("This pseudonym is taken. Please choose another."))
    taken = User.objects.filter(pseudonym__iexact=pseudonym)
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        raise AccountError(_("This pseudonym is taken. Please choose another."))
    return pseudonym


def notification_choices(user: User) -> list[tuple[str, str]]:
    """The ways notifications may reach `user`: every channel that can reach them now
    (email; Telegram once they linked a chat), and none."""
    from krov.core import notify

    return [
        *((name, str(label)) for name, label in notify.available_channels(user)),
        (notify.NONE, str(_("None: send me nothing"))),
    ]


def current_notification_channel(user: User) -> str:
    """Where notifications to `user` go now (what their settings show as chosen)."""
    from krov.core import notify

    found = notify.route(user)
    return notify.NONE if found is None else found[0]


@transaction.atomic
def update_settings(
    user: User, *, pseudonym: str, language: str, notification_channel: str, actor: User
) -> list[str]:
    """A person changes their own pseudonym, language and notification channel. Returns
    the names of the fields that changed."""
    if actor.pk != user.pk:
        raise AccountError(_("Only you can change your settings."))
    pseudonym = clean_pseudonym(pseudonym, user=user)
    from krov.core.services import interface_languages

    if language not in interface_languages():
        raise AccountError(_("Please choose one of the languages Krov speaks."))
    if notification_channel not in {name for name, _label in notification_choices(user)}:
        raise AccountError(_("Notifications cannot reach you this way."))
    if notification_channel == current_notification_channel(user):
        # Not a change: a person who never chose keeps "not chosen" (Telegram once linked).
        notification_channel = user.notification_channel
    wanted = {
        "pseudonym": pseudonym,
        "language": language,
        "notification_channel": notification_channel,
    }
    changed = [name for name, value in wanted.items() if getattr(user, name) != value]
    if not changed:
        return []
    previous = user.pseudonym
    for name in changed:
        setattr(user, name, wanted[name])
    try:
        with transaction.atomic():
            user.save(update_fields=changed)
        if "pseudonym" in changed:
            # Others know the person by it: a change is on the record (the names, as the
            # audit log names people by pseudonym anyway).
            audit.record(
                AuditEvent.Kind.PSEUDONYM_CHANGED, actor=actor, subject=user, previous=previous
            )
    except IntegrityError:  # the same pseudonym taken at the same moment
        raise AccountError(_("This pseudonym is taken. Please choose another.")) from None
    return changed


def second_factors(user: User) -> dict[str, int]:
    """How many of each second factor `user` has, for their safety page (one query)."""
    from django.db.models import Count

    counts = dict(
        Authenticator.objects.filter(user=user)
        .values("type")
        .annotate(n=Count("pk"))
        .values_list("type", "n")
    )
    return {
        "totp": counts.get(Authenticator.Type.TOTP, 0),
        "webauthn": counts.get(Authenticator.Type.WEBAUTHN, 0),
        "recovery_codes": counts.get(Authenticator.Type.RECOVERY_CODES, 0),
    }
