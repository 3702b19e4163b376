from __future__ import annotations

from django.urls import path, re_path

from krov.bulletins import views
from krov.core import views as core_views

app_name = "bulletins"

urlpatterns = [
    path("bulletins/", views.post_list, name="list"),
    path("bulletins/feed/", views.feed, name="feed"),
    path("bulletins/podcast/", views.podcast, name="podcast"),
    # The site search's first address (the README's), kept: the page is core's, /<lang>/search/.
    path("bulletins/search/", core_views.search, name="search"),
    path("bulletins/editor/", views.editor_list, name="editor"),
    # Before the bulletins' own pages: like feed/ and podcast/, a fixed name wins a slug.
    path("bulletins/editor/tags/", views.tags, name="tags"),
    path("bulletins/editor/<slug:slug>/", views.edit, name="edit"),
    path("bulletins/editor/<slug:slug>/recording/", views.recording, name="recording"),
    re_path(
        r"^bulletins/editor/(?P<slug>[-a-zA-Z0-9_]+)/pending-audio/"
        r"(?P<name>[0-9a-f]{24}\.(?:opus|mp3))$",
        views.pending_audio,
        name="pending-audio",
    ),
    path("bulletins/editor/<slug:slug>/<str:action>/", views.workflow, name="workflow"),
    path("bulletins/<slug:slug>/", views.post_detail, name="detail"),
    path("bulletins/<slug:slug>/cover.jpg", views.cover, name="cover"),
    path("bulletins/<slug:slug>/transcript.txt", views.transcript, name="transcript"),
    re_path(
        r"^bulletins/(?P<slug>[-a-zA-Z0-9_]+)/audio/(?P<name>[0-9a-f]{24}\.(?:opus|mp3))$",
        views.audio_file,
        name="audio",
    ),
]
