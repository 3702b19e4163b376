"""Administration on an administrator's home (krov.core.home): what waits for them (requests
for a second person, locked accounts), counted, and every administration tool one click
away. The dashboard (krov.accounts.views) is this app's own page, so it adds this panel
itself; other apps register theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Exists, Min, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from krov.accounts import services
from krov.accounts.models import RoleGrant, UnlockRequest, User
from krov.core.home import Item, Panel

# Any of these makes someone an administrator for their home (the admin role has all).
ADMIN_PERMISSIONS = ("accounts.manage_roles", "accounts.view_audit_log", "accounts.view_user")


def _decidable_by(model: type[RoleGrant] | type[UnlockRequest], actor: User):
    """The pending requests `actor` may decide, as one query: `services.is_second_person`
    (never the one who asked, never the subject, never someone whose own role that
    requester asked for) written for the database, so that the count takes one query however
    many requests wait."""
    vouched_by_requester = RoleGrant.objects.filter(user=actor, status=RoleGrant.Status.CONFIRMED)
    return (
        model.objects.filter(
            status=model.Status.PENDING,
            requested_at__gte=timezone.now() - services.ROLE_GRANT_VALID,
        )
        .exclude(requested_by=actor)
        .exclude(user=actor)
        .exclude(
            Exists(vouched_by_requester.filter(requested_by=OuterRef("requested_by")))
            | (
                Q(requested_by__isnull=True)
                & Exists(vouched_by_requester.filter(requested_by__isnull=True))
            )
        )
    )


@dataclass(frozen=True)
class Waiting:
    requests: int
    requests_since: datetime | None
    locked: int
    locked_since: datetime | None


def waiting_for(actor: User) -> Waiting:
    """Requests (roles and unlocks) waiting for `actor` as the second person, and accounts
    that are locked: counts and the oldest, in three queries at most."""
    count, since = 0, None
    if services.may_confirm(actor):
        for model in (RoleGrant, UnlockRequest):
            found = _decidable_by(model, actor).aggregate(
                count=Count("id"), since=Min("requested_at")
            )
            count += found["count"]
            if found["since"] is not None and (since is None or found["since"] < since):
                since = found["since"]
    # As the account list shows them (service accounts are managed with `krov custodian`).
    locked = User.objects.filter(is_active=False, is_service_account=False).aggregate(
        count=Count("id"), since=Min("locked_by_panic_at")
    )
    return Waiting(
        requests=count,
        requests_since=since,
        locked=locked["count"],
        locked_since=locked["since"],
    )


def admin_tool(user) -> Item | None:
    """The administrator's way in: the requests that wait for a second person, else the
    audit log, else the account list."""
    if user.has_perm("accounts.manage_roles"):
        return Item(_("Administration"), reverse("accounts:role_requests"))
    if user.has_perm("accounts.view_audit_log"):
        return Item(_("Administration"), reverse("accounts:audit_log"))
    if user.has_perm("accounts.view_user"):
        return Item(_("Administration"), reverse("admin:accounts_user_changelist"))
    return None


def admin_panel(user) -> Panel | None:
    if not any(user.has_perm(permission) for permission in ADMIN_PERMISSIONS):
        return None
    waiting = waiting_for(user)
    items = []
    if user.has_perm("accounts.manage_roles"):
        items.append(
            Item(
                _("Role and unlock requests waiting for you"),
                reverse("accounts:role_requests"),
                waiting.requests,
                since=waiting.requests_since,
            )
        )
    if user.has_perm("accounts.view_user"):
        users = reverse("admin:accounts_user_changelist")
        # The unlock action is on this list: select the account, "Unlock…", Go.
        items.append(
            Item(
                _("Locked accounts"),
                f"{users}?is_active__exact=0",
                waiting.locked,
                since=waiting.locked_since,
            )
        )
        items.append(Item(_("Accounts and roles"), users))
    if user.has_perm("accounts.view_audit_log"):
        items.append(Item(_("Audit log"), reverse("accounts:audit_log")))
    if user.has_perm("events.change_venue"):
        items.append(Item(_("Venues and their translations"), reverse("events:venues")))
    if user.is_staff:
        items.append(Item(_("All administration pages"), reverse("admin:index")))
    return Panel(key="accounts-admin", title=_("Administration"), order=8, items=items)
