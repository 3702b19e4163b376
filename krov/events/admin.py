from __future__ import annotations

from django.contrib import admin

from krov.events.models import Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "language", "capacity", "time_zone"]
    list_filter = ["language"]
    search_fields = ["name", "address"]
    fields = ["name", "language", "address", "osm_url", "accessibility", "capacity", "time_zone"]
