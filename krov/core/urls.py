from __future__ import annotations

from django.urls import path

from krov.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    # The same page also answers at bulletins/search/ (krov.bulletins.urls), its first address.
    path("search/", views.search, name="search"),
    path("undo/", views.undo, name="undo"),
]
