from __future__ import annotations

from django.urls import path

from krov.directory import views

app_name = "directory"

urlpatterns = [
    path("directory/", views.directory, name="list"),
    path("directory/propose/", views.propose, name="propose"),
    path("directory/review/", views.review, name="review"),
    path("directory/<slug:slug>/", views.organisation, name="organisation"),
    path("directory/<slug:slug>/correct/", views.propose, name="correct"),
    path("guides/", views.guides, name="guides"),
    path("guides/new/", views.guide_edit, name="guide_new"),
    path("guides/<slug:slug>/", views.guide, name="guide"),
    path("guides/<slug:slug>/edit/", views.guide_edit, name="guide_edit"),
    path("guides/<slug:slug>/verify/", views.guide_verify, name="guide_verify"),
]
