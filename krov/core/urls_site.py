from __future__ import annotations

from django.urls import path

from krov.core import views

app_name = "site"

urlpatterns = [
    path("robots.txt", views.robots_txt, name="robots"),
    path("favicon.ico", views.favicon_ico, name="favicon"),
    path("sitemap.xml", views.sitemap_xml, name="sitemap"),
]
