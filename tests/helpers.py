"""Helpers every test module uses: one of each."""

from __future__ import annotations

from bs4 import BeautifulSoup
from django.test import Client

BACKEND = "krov.accounts.backends.KrovBackend"


def soup(response) -> BeautifulSoup:
    """The page, parsed: assertions look at elements, not at substrings."""
    return BeautifulSoup(response.content, "html.parser")


def signed_in(user) -> Client:
    """A test client with `user` signed in (the session is forced: sign-in flows have their
    own tests)."""
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client
