from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext_lazy as _

from krov.accounts import services
from krov.accounts.models import User
from krov.core.models import AuditEvent


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
    readonly_fields = ["last_login", "date_joined", "locked_by_panic_at"]
    fieldsets = [
        (None, {"fields": ["email", "pseudonym", "password"]}),
        (_("Roles"), {"fields": ["is_active", "locked_by_panic_at", "groups"]}),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "pseudonym", "password1", "password2"]}),
    ]
    filter_horizontal = ["groups"]

    @admin.action(description=_("Unlock the selected accounts (after panic)"))
    def unlock_after_panic(self, request, queryset):
        for user in queryset.filter(is_active=False):
            services.unlock(user, actor=request.user)

    def user_change_password(self, request, id, form_url=""):
        # Setting someone else's password would let an admin take over a volunteer's
        # account; people reset their own through the emailed link instead.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)

    def save_related(self, request, form, formsets, change):
        # Role changes made here are audited with the admin as the actor.
        with services.acting_as(request.user):
            super().save_related(request, form, formsets, change)
        user = form.instance
        # Keeps member and the staff flag in step with the roles just chosen.
        services.set_roles(user, user.groups.values_list("name", flat=True), actor=request.user)


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
