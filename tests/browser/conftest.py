"""Shared browser fixtures: Debian's Chromium driven by Playwright; no browser download."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LOCK_PATIENCE_SECONDS = 10.0


@pytest.fixture(autouse=True)
def patient_sqlite(monkeypatch):
    """Browser tests run a live server in a thread beside the test, both on the in-memory
    SQLite test database, whose shared cache locks whole tables: a statement that meets the
    other thread's lock fails at once with "database table is locked" (SQLite's busy timeout
    does not apply to it). Pages poll and a coordinator's page works in the background, so
    such a meeting can happen at any moment; here a statement waits for the lock to pass, as
    it would on the file database production uses. Nothing else changes."""
    from django.db import OperationalError as DjangoOperationalError
    from django.db.backends.sqlite3.base import SQLiteCursorWrapper

    def patient(method):
        def run(self, *args, **kwargs):
            deadline = time.monotonic() + LOCK_PATIENCE_SECONDS
            while True:
                try:
                    return method(self, *args, **kwargs)
                except (sqlite3.OperationalError, DjangoOperationalError) as error:
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)

        return run

    monkeypatch.setattr(SQLiteCursorWrapper, "execute", patient(SQLiteCursorWrapper.execute))
    monkeypatch.setattr(
        SQLiteCursorWrapper, "executemany", patient(SQLiteCursorWrapper.executemany)
    )


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(live_server):
    from playwright.sync_api import sync_playwright

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # the live server thread uses the ORM
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(20_000)
        csp_violations: list[str] = []
        page.on(
            "console",
            lambda msg: (
                csp_violations.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.csp_violations = csp_violations
        try:
            yield page
        finally:
            context.close()
            browser.close()
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def new_browser_page(browser_page, live_server):
    """Another, separate browser context (a second person) in the same browser."""
    pages = []

    def _new(user=None):
        context = browser_page.context.browser.new_context(locale="en-GB")
        if user is not None:
            client = Client()
            client.force_login(user, backend="krov.accounts.backends.KrovBackend")
            cookie = client.cookies[settings.SESSION_COOKIE_NAME]
            context.add_cookies(
                [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
            )
        page = context.new_page()
        page.set_default_timeout(20_000)
        violations: list[str] = []
        page.on(
            "console",
            lambda msg: (
                violations.append(msg.text) if "Content Security Policy" in msg.text else None
            ),
        )
        page.csp_violations = violations
        pages.append(context)
        return page

    yield _new
    for context in pages:
        context.close()
