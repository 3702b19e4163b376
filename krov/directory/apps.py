from __future__ import annotations

from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "krov.directory"
    label = "directory"
    verbose_name = "Directory and guides"
