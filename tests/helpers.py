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


def reauthenticated(client: Client, user) -> Client:
    """Mark the client's session as having just confirmed the password (allauth's
    reauthentication), as the "confirm it is you" page does."""
    from allauth.account.internal.flows.login import record_authentication
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = client.session
    request.user = user
    record_authentication(request, user, method="password", reauthenticated=True)
    request.session.save()
    return client


def reauthenticate_session(session_key: str, user) -> None:
    """The same, for a session a browser holds (by its key)."""
    from allauth.account.internal.flows.login import record_authentication
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=session_key)
    request.user = user
    record_authentication(request, user, method="password", reauthenticated=True)
    request.session.save()
