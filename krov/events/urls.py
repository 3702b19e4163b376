from __future__ import annotations

from django.urls import path

from krov.events import views

app_name = "events"

urlpatterns = [
    path("events/", views.event_list, name="list"),
    path("events/manage/", views.manage_list, name="manage_list"),
    path("events/venues/", views.venues, name="venues"),
    path("events/manage/<slug:slug>/", views.manage, name="manage"),
    path("events/manage/<slug:slug>/door/count/", views.door_count, name="door_count"),
    path("events/manage/<slug:slug>/<str:action>/", views.manage_action, name="manage_action"),
    path("events/rsvp/<str:token>/", views.rsvp_page, name="rsvp"),
    path("events/rsvp/<str:token>/cancel/", views.rsvp_cancel, name="rsvp_cancel"),
    path("events/rsvp/<str:token>/confirm/", views.rsvp_confirm, name="rsvp_confirm"),
    path("events/<slug:slug>/", views.event_detail, name="detail"),
    path("events/<slug:slug>/rsvp/", views.rsvp, name="rsvp_create"),
    path("events/<slug:slug>/count/", views.count_me_in, name="count"),
    path("events/<slug:slug>/perform/", views.perform, name="perform"),
    path("events/<slug:slug>/live/", views.live, name="live"),
    path("events/<slug:slug>/live/wall/", views.live_wall, name="live_wall"),
    path("events/<slug:slug>/cover.jpg", views.cover, name="cover"),
    path("events/<slug:slug>/live/state/", views.live_state, name="live_state"),
]
