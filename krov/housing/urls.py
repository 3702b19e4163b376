from __future__ import annotations

from django.urls import path

from krov.housing import views

app_name = "housing"

urlpatterns = [
    path("housing/", views.board, name="list"),
    path("housing/new/", views.new, name="new"),
    path("housing/mine/", views.mine, name="mine"),
    path("housing/messages/", views.inbox, name="inbox"),
    path("housing/messages/<int:pk>/", views.conversation, name="conversation"),
    path("housing/moderation/", views.moderation, name="moderation"),
    path(
        "housing/moderation/members/<int:user_id>/lift-ban/",
        views.lift_ban,
        name="lift_ban",
    ),
    path("housing/rents/", views.rents, name="rents"),
    path("housing/rents/check/", views.fair_rent, name="fair_rent"),
    path("housing/rents/import/", views.import_rents, name="import"),
    path("housing/rents/<slug:area>/", views.rents_area, name="rents_area"),
    path("housing/rents/<slug:area>/chart.svg", views.chart, name="chart"),
    path("housing/<int:pk>/", views.listing, name="listing"),
    path("housing/<int:pk>/edit/", views.edit, name="edit"),
    path("housing/<int:pk>/photo/<int:photo_id>.jpg", views.photo, name="photo"),
    path("housing/<int:pk>/flag/", views.flag, name="flag"),
    path("housing/<int:pk>/write/", views.write, name="write"),
    path(
        "housing/<int:pk>/<slug:action>/",
        views.poster_action,
        name="poster_action",
    ),
    path(
        "housing/<int:pk>/moderate/<slug:action>/",
        views.moderate,
        name="moderate",
    ),
]
