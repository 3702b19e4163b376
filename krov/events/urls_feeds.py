from __future__ import annotations

from django.urls import path

from krov.events import views

app_name = "event_feeds"

urlpatterns = [
    path("events/feed.ics", views.feed, name="feed"),
    path("events/<slug:slug>.ics", views.event_ics, name="ics"),
]
