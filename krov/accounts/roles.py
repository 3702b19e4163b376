"""Roles are groups with an explicit, complete set of permissions. This file is the truth:
`sync_roles` makes the database match it after every migration."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

MEMBER = "member"
VOLUNTEER = "volunteer"
COORDINATOR = "coordinator"
ORGANISER = "organiser"
EDITOR = "editor"
ADMIN = "admin"

ROLE_ORDER = (MEMBER, VOLUNTEER, COORDINATOR, ORGANISER, EDITOR, ADMIN)
# Roles that open cases. Granting one takes a second person (see services.request_role);
# no superuser flag stands in for them (see User.has_perm).
CASE_ROLES = frozenset({VOLUNTEER, COORDINATOR})
# Roles a person cannot give alone: those that open cases, and the admin role (else one
# admin could make a second account an admin and confirm their own requests with it).
SECOND_PERSON_ROLES = CASE_ROLES | {ADMIN}
CASE_PERMISSIONS = frozenset({"accounts.answer_help_requests", "accounts.triage_help_requests"})
ROLE_LABELS = {
    MEMBER: _("Member"),
    VOLUNTEER: _("Volunteer"),
    COORDINATOR: _("Coordinator"),
    ORGANISER: _("Organiser"),
    EDITOR: _("Editor"),
    ADMIN: _("Administrator"),
}

_MEMBER_PERMS = {"accounts.use_member_area"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    MEMBER: frozenset(_MEMBER_PERMS),
    VOLUNTEER: frozenset(_MEMBER_PERMS | {"accounts.answer_help_requests"}),
    COORDINATOR: frozenset(
        _MEMBER_PERMS | {"accounts.answer_help_requests", "accounts.triage_help_requests"}
    ),
    ORGANISER: frozenset(
        _MEMBER_PERMS
        | {"accounts.organise_events", "accounts.moderate_housing", "accounts.review_directory"}
    ),
    EDITOR: frozenset(
        _MEMBER_PERMS
        | {"accounts.edit_bulletins", "accounts.publish_bulletins", "accounts.review_directory"}
    ),
    # Admins run the server and the accounts; they do not see cases unless also coordinators.
    # Parked Telegram updates: their ids and errors, never what they hold.
    ADMIN: frozenset(
        _MEMBER_PERMS
        | {
            "accounts.view_audit_log",
            "accounts.manage_roles",
            "accounts.view_user",
            "accounts.change_user",
            "auth.view_group",
            "telegram.view_update",
            "telegram.process_parked_updates",
            # Venues are shared by every organiser's events: admins keep them, with their
            # texts in other languages (never deleted: past events point at them).
            "events.view_venue",
            "events.add_venue",
            "events.change_venue",
        }
    ),
}


def _permission_objects(names: frozenset[str]) -> list[Permission]:
    found = []
    for name in sorted(names):
        app_label, codename = name.split(".", 1)
        found.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return found


@transaction.atomic
def sync_roles() -> None:
    """Create the role groups and give each exactly the permissions listed above."""
    for role in ROLE_ORDER:
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.set(_permission_objects(ROLE_PERMISSIONS[role]))


def sync_roles_after_migrate(sender, using=None, plan=None, **kwargs) -> None:
    # auth creates permissions app by app in its own post_migrate handler, which may not
    # have run yet for every app: create them all first (it is idempotent).
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using or "default")
    sync_roles()
