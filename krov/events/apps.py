from __future__ import annotations

from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "krov.events"
    label = "events"
    verbose_name = "Events"

    def ready(self) -> None:
        from krov.core import audit, home, oldslugs, retention, sitemap, translated, undo
        from krov.events import home as events_home
        from krov.events import services, views

        # The audit log page names the language a venue translation was written in.
        audit.register_detail_choices("language", translated.translatable_languages)

        retention.register(
            "event attendees",
            "names, contacts and stage names, KROV_EVENT_ATTENDEE_DAYS after each event",
            services.purge_attendees,
        )
        sitemap.register("events", views.sitemap_pages)
        oldslugs.register(
            "events.event",
            [
                *(f"events:{name}" for name in ("detail", "rsvp_create", "count", "perform")),
                *(f"events:{name}" for name in ("live", "live_wall", "live_state", "cover")),
                *(f"events:{name}" for name in ("manage", "manage_action")),
                "event_feeds:ics",
            ],
        )
        home.register("events-organiser", events_home.panel)
        undo.register("events.cancel", services.undo_cancel)
        home.register_tool("events-organiser", events_home.tool, order=40)
        home.register_section("events", events_home.upcoming_section, namespace="events")
