from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from krov.accounts import services
from krov.accounts.models import User
from krov.core import audit
from krov.core.models import AuditEvent


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """What an administrator may do to an account, and nothing that takes it over.

    Email and password are the keys to an account: an administrator who could set either
    could sign in as anyone (the reset link goes to the address). People change their own,
    after signing in again (allauth's reauthentication), and the old address is told.
    `is_active` is read-only too: a panic lock is lifted only by the audited unlock action.
    Roles that open cases become requests a second person confirms (`change_roles`).
    """

    ordering = ["pseudonym"]
    list_display = [
        "pseudonym",
        "email",
        "is_active",
        "locked_by_panic_at",
        "is_staff",
        "last_login",
    ]
    actions = ["unlock_after_panic"]
    search_fields = ["pseudonym", "email"]
    list_filter = ["is_active", "is_staff", "groups"]
    readonly_fields = ["email", "is_active", "last_login", "date_joined", "locked_by_panic_at"]
    fieldsets = [
        (None, {"fields": ["email", "pseudonym"]}),
        (_("Roles"), {"fields": ["is_active", "locked_by_panic_at", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "pseudonym", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups"]

    def get_queryset(self, request):
        # Service accounts (key custodians) are managed with `krov custodian`, not here.
        return super().get_queryset(request).filter(is_service_account=False)

    @admin.action(description=_("Unlock the selected accounts (after panic)"))
    def unlock_after_panic(self, request, queryset):
        asked = 0
        for user in queryset.filter(is_active=False):
            try:
                services.request_unlock(user, actor=request.user)
            except services.AccountError as error:
                self.message_user(request, str(error), messages.ERROR)
                return
            asked += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d unlock waits for another administrator or a coordinator to confirm "
                "it (Dashboard → Role requests).",
                "%(count)d unlocks wait for another administrator or a coordinator to confirm "
                "them (Dashboard → Role requests).",
                asked,
            )
            % {"count": asked},
            messages.WARNING,
        )

    def user_change_password(self, request, id, form_url=""):
        # Setting someone else's password would let an admin take over the account;
        # people reset their own through the emailed link instead. No one is exempt.
        raise PermissionDenied

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            changed = sorted(set(form.changed_data) - {"groups"})
            if changed:
                # Which fields, never their values.
                audit.record(
                    AuditEvent.Kind.ACCOUNT_CHANGED, actor=request.user, subject=obj, fields=changed
                )

    def save_related(self, request, form, formsets, change):
        user = form.instance
        wanted = {group.name for group in form.cleaned_data.get("groups", [])}
        # Everything but the groups (which change_roles sets, audited with the admin).
        form.cleaned_data["groups"] = user.groups.all()
        super().save_related(request, form, formsets, change)
        try:
            grants = services.change_roles(user, wanted, actor=request.user)
        except services.AccountError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        if grants:
            self.message_user(
                request,
                ngettext(
                    "%(count)d role opens cases: it waits for another administrator or a "
                    "coordinator to confirm it (Dashboard → Role requests).",
                    "%(count)d roles open cases: they wait for another administrator or a "
                    "coordinator to confirm them (Dashboard → Role requests).",
                    len(grants),
                )
                % {"count": len(grants)},
                messages.WARNING,
            )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "kind", "actor_pseudonym", "subject_pseudonym"]
    list_filter = ["kind"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("accounts.view_audit_log")

    def has_module_permission(self, request):
        return request.user.has_perm("accounts.view_audit_log")
