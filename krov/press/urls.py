from __future__ import annotations

from django.urls import path

from krov.press import views

app_name = "press"

urlpatterns = [
    path("press/", views.story_list, name="stories"),
    path("press/stories/<int:pk>/status/", views.story_status, name="status"),
    path("press/stories/<int:pk>/answer/", views.story_answer, name="answer"),
    path("press/sources/", views.source_list, name="sources"),
    path("press/sources/<int:pk>/active/", views.source_active, name="source-active"),
    path("press/terms/", views.term_list, name="terms"),
    path("press/terms/<int:pk>/", views.term_change, name="term"),
    path("press/terms/<int:pk>/remove/", views.term_remove, name="term-remove"),
]
