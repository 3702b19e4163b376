"""A key custodian sends answers to Telegram requesters that wait because the worker that
held their key stopped, as a coordinator's open Krov does (tests/telegram/test_outbox_keys.py)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from krov.aid import custodian as client
from krov.aid import services
from krov.core import sealing
from krov.telegram import outbox, outbox_keys
from krov.telegram.models import Outbound
from tests.aid.test_custodian import share_team_key_with_custodian
from tests.telegram.test_outbox_keys import (  # noqa: F401 - the fixtures are used
    ANSWER,
    answered_case,
    fresh_worker,
    held_back,
    received,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_process_server():
    """The custodian's HTTP calls answered by Krov in this thread, through Django's test
    client (inside the test's transaction, on SQLite and PostgreSQL alike)."""

    def answer(request: httpx.Request) -> httpx.Response:
        response = Client().generic(
            request.method,
            request.url.raw_path.decode(),
            request.content,
            content_type=request.headers.get("content-type", ""),
            headers={
                name: value
                for name, value in request.headers.items()
                if name.lower() not in {"content-type", "content-length", "host"}
            },
        )
        return httpx.Response(
            response.status_code, content=response.content, headers=dict(response.items())
        )

    return httpx.MockTransport(answer)


@pytest.mark.usefixtures("held_back")
def test_a_custodian_seals_a_waiting_answer_again_for_the_running_worker(
    telegram_user, team, make_volunteer, coordinator, in_process_server
):
    custodian, token = services.add_custodian("night-desk")
    pair = sealing.KeyPair.generate()
    services.register_custodian_key(custodian, public_key=pair.public)
    share_team_key_with_custodian(team)
    user, case, reply = answered_case(telegram_user, make_volunteer, coordinator)
    outbox_keys.forget()  # the worker stops
    with time_machine.travel(timezone.now() + outbox_keys.STALE + timedelta(seconds=1)):
        outbox_keys.retire_stale()
        assert Outbound.objects.get(aid_message=reply).status == Outbound.Status.WAITING
        outbox.send_due()  # a new worker: nothing it holds opens the old answer
        assert not received(user, ANSWER)
        server = client.Server("http://testserver", token, transport=in_process_server)
        done = client.run_round(server, pair.private, pair.public)
        assert done.resent >= 1 and done.failed == 0
        assert Outbound.objects.get(aid_message=reply).status == Outbound.Status.QUEUED
        outbox.send_due()
        server.close()
    assert ANSWER in user.last_text()
