"""Parked updates and failed calls, for the administrator. Payloads stay hidden: they hold
what people wrote; the error class says what went wrong."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from krov.telegram import intake
from krov.telegram.models import Outbound, Update


@admin.register(Update)
class UpdateAdmin(admin.ModelAdmin):
    list_display = ["update_id", "status", "attempts", "error", "received_at", "processed_at"]
    list_filter = ["status"]
    fields = ["update_id", "status", "attempts", "error", "received_at", "processed_at"]
    readonly_fields = ["update_id", "status", "attempts", "error", "received_at", "processed_at"]
    actions = ["process_again"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description=_("Process the selected parked updates again"))
    def process_again(self, request, queryset):
        parked = queryset.filter(status=Update.Status.PARKED)
        keys = set(parked.values_list("chat_key", flat=True))
        parked.update(status=Update.Status.PENDING, attempts=0, error="")
        for key in keys:
            intake.nudge(key)


@admin.register(Outbound)
class OutboundAdmin(admin.ModelAdmin):
    list_display = ["pk", "method", "status", "attempts", "error", "next_try_at", "sent_at"]
    list_filter = ["status", "method"]
    fields = ["method", "status", "attempts", "error", "next_try_at", "created_at", "sent_at"]
    readonly_fields = [
        "method",
        "status",
        "attempts",
        "error",
        "next_try_at",
        "created_at",
        "sent_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False
