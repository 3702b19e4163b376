from __future__ import annotations

from django.contrib import admin

from krov.housing.models import Ban, District, Listing, RentImport


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name_latin", "name_cyrillic", "city", "position", "active"]
    list_editable = ["position", "active"]
    search_fields = ["name_latin", "name_cyrillic", "aliases"]


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "district", "rent", "currency", "status", "expires_at"]
    list_filter = ["status", "district"]
    raw_id_fields = ["poster"]

    # Listings change through the board and its moderation (checks, audit), not here.
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RentImport)
class RentImportAdmin(admin.ModelAdmin):
    list_display = ["file_name", "created_at", "rows_read", "imported", "rejected"]
    readonly_fields = [f.name for f in RentImport._meta.fields]


@admin.register(Ban)
class BanAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "created_at"]
    raw_id_fields = ["user", "banned_by"]
