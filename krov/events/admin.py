from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models, transaction

from krov.events import services
from krov.events.forms import VenueTranslationForm
from krov.events.models import Venue, VenueTranslation
from krov.events.services import VENUE_TEXT_FIELDS


class VenueTranslationInline(admin.StackedInline):
    """The venue's name, address and accessibility notes in other languages, one language
    each; saved through krov.events.services (checks, page refresh, calendar revisions)."""

    model = VenueTranslation
    form = VenueTranslationForm
    extra = 0
    fields = ["language", "name", "address", "accessibility"]

    # Translating a venue is changing it: whoever may change venues (events.change_venue)
    # keeps its translations, with no permissions of their own to hand out.
    def has_view_permission(self, request, obj=None) -> bool:
        return services.can_edit_venues(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return services.can_edit_venues(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return services.can_edit_venues(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return services.can_edit_venues(request.user)


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "language", "capacity", "time_zone"]
    list_filter = ["language"]
    search_fields = ["name", "address"]
    fields = ["name", "language", "address", "osm_url", "accessibility", "capacity", "time_zone"]
    inlines = [VenueTranslationInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.URLField):
            kwargs["assume_scheme"] = "https"  # a map link typed without its scheme
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("translations")

    def save_model(self, request, obj, form, change) -> None:
        # Through the service: the audit log, every page showing the venue, and calendar
        # entries when what their LOCATION says changed.
        try:
            services.save_venue(obj, actor=request.user, fields=form.changed_data)
        except services.EventError as error:
            # The form checked the same values; only a permission can differ here.
            raise PermissionDenied(str(error)) from error

    def delete_model(self, request, obj) -> None:
        try:
            services.delete_venue(obj, actor=request.user)
        except services.EventError as error:
            raise PermissionDenied(str(error)) from error

    def delete_queryset(self, request, queryset) -> None:
        # The list's "delete selected" action: each through the service, all or none.
        with transaction.atomic():
            for venue in queryset:
                self.delete_model(request, venue)

    def save_formset(self, request, form, formset, change) -> None:
        if formset.model is not VenueTranslation:
            super().save_formset(request, form, formset, change)
            return
        venue = form.instance
        # The rows as texts by language, saved at once through the one service the venues
        # page uses too: a deleted row, or one that now says another language, leaves its
        # old language empty (removed) unless another row writes it.
        texts: dict[str, dict[str, str]] = {}
        deleted = [row for row in formset.deleted_forms if row.instance.pk]
        for row in deleted:
            texts[row.initial.get("language", "")] = {}
        saved = [
            row
            for row in formset.forms
            if row not in formset.deleted_forms and row.has_changed() and row.cleaned_data
        ]
        for row in saved:
            before = row.initial.get("language")
            if row.instance.pk and before != row.cleaned_data["language"]:
                texts.setdefault(before, {})
        for row in saved:
            data = row.cleaned_data
            texts[data["language"]] = {field: data.get(field, "") for field in VENUE_TEXT_FIELDS}
        try:
            services.translate_venue(venue, actor=request.user, texts=texts)
        except services.EventError as error:
            # The inline form checked the same rules; only a permission can differ here.
            raise PermissionDenied(str(error)) from error
        # What Django's change message lists: the rows as they are now.
        rows = {row.language: row for row in VenueTranslation.objects.filter(venue=venue)}
        formset.deleted_objects = [row.instance for row in deleted]
        formset.new_objects = [
            rows[row.cleaned_data["language"]] for row in saved if not row.instance.pk
        ]
        formset.changed_objects = [
            (rows[row.cleaned_data["language"]], row.changed_data)
            for row in saved
            if row.instance.pk
        ]
