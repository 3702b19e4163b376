"""Who reaches the Telegram pages."""

from __future__ import annotations

import pytest
from django.test import Client

from krov.accounts import roles

pytestmark = pytest.mark.django_db

EXPECTED = {
    "anonymous": 302,
    roles.MEMBER: 403,
    roles.VOLUNTEER: 200,
    roles.COORDINATOR: 200,
    roles.ORGANISER: 403,
    roles.EDITOR: 403,
    roles.ADMIN: 403,
}


def test_the_link_page_is_for_volunteers_and_coordinators_only(personas):
    seen = {}
    for who in EXPECTED:
        client = Client()
        if who != "anonymous":
            client.force_login(personas[who].user, backend="krov.accounts.backends.KrovBackend")
        seen[who] = client.get("/en/aid/telegram/").status_code
    assert seen == EXPECTED


def test_the_webhook_and_dev_pages_declare_their_access():
    from krov.telegram import views

    assert views.webhook.krov_access == "public"
    assert views.dev_chat.krov_access == "public"
    assert views.link.krov_access == ("perms", ("accounts.answer_help_requests",))
