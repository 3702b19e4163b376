"""The admin sees the catalogue only. Cases are reached through the desk, where every
opening is audited; an administrator who is not a coordinator sees none."""

from __future__ import annotations

from django.contrib import admin

from krov.aid.models import CannedReply, Skill


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "position", "active"]
    list_editable = ["position", "active"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the anonymous records count by skill


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "language"]
    list_filter = ["language"]
