from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured


class SettingsError(ImproperlyConfigured):
    """A bad environment variable; `krov` prints it as one line and exits."""

    def __init__(self, name: str, problem: str) -> None:
        self.name = name
        self.problem = problem
        super().__init__(f"{name}: {problem}")
