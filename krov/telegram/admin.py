"""Parked updates and failed calls, for the administrator. Payloads stay hidden: they hold
what people wrote; the error class says what went wrong.

The admin role sees updates (telegram.view_update) and may queue parked ones again
(telegram.process_parked_updates); nobody changes or deletes one here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from krov.telegram import services
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

    def has_process_permission(self, request) -> bool:
        return request.user.has_perm(services.PROCESS_PARKED)

    @admin.action(
        description=_("Process the selected parked updates again"), permissions=["process"]
    )
    def process_again(self, request, queryset):
        try:
            count = services.process_parked_again(queryset, actor=request.user)
        except services.TelegramError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d parked update is queued again.",
                "%(count)d parked updates are queued again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )


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
