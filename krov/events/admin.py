from __future__ import annotations

from django.contrib import admin

from krov.events.models import Venue


@admin.register(Venue)
class VenueAdmin(admin.ModelAdmin):
    list_display = ["name", "address", "capacity", "time_zone"]
    search_fields = ["name", "address"]
