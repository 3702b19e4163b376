from __future__ import annotations

import pytest
from django.db import OperationalError

from krov.core import health


@pytest.mark.django_db
def test_healthz_is_ok_with_database_and_queue(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["queue"]["status"] == "ok"
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_reports_worker_heartbeat(client):
    health.record_heartbeat()
    body = client.get("/healthz").json()
    assert 0 <= body["checks"]["queue"]["worker_seen_seconds_ago"] < 60


@pytest.mark.django_db
def test_healthz_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def broken():
        raise OperationalError("database is locked")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["database"]
    assert body["checks"]["queue"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_naming_the_queue_when_it_fails(client, monkeypatch):
    from huey.contrib.djhuey import HUEY

    def refuse():
        raise ConnectionError("queue storage unreachable")

    monkeypatch.setattr(HUEY, "pending_count", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["queue"]


@pytest.mark.django_db
def test_an_apps_registered_check_is_reported_and_can_fail(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", dict(health.CHECKS))
    monkeypatch.setattr(health, "DETAILS", dict(health.DETAILS))
    health.register("extra", lambda: {"status": "ok", "waiting": 3})
    assert client.get("/healthz").json()["checks"]["extra"] == {"status": "ok", "waiting": 3}

    def broken():
        raise RuntimeError("no")

    health.register("extra", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["failing"] == ["extra"]


@pytest.mark.django_db
def test_a_detail_that_cannot_be_had_is_unknown_and_the_server_still_healthy(client, monkeypatch):
    monkeypatch.setattr(health, "CHECKS", dict(health.CHECKS))
    monkeypatch.setattr(health, "DETAILS", dict(health.DETAILS))

    def no_table():
        raise OperationalError("no such table: telegram_update")

    health.register("telegram", no_table, vital=False)
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and "failing" not in body
    assert body["checks"]["telegram"] == {"status": "unknown", "error": "OperationalError"}
