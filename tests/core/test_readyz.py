"""GET /readyz: readiness (database, Redis when used, migrations), beside /healthz."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from krov.core import readiness


@pytest.fixture(autouse=True)
def _fresh_migration_state(monkeypatch):
    monkeypatch.setattr(readiness, "_migrations_applied", False)


@pytest.mark.django_db
def test_readyz_is_ok_with_database_and_migrations(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "migrations": {"status": "ok"}},
    }
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_readyz_is_503_naming_an_unapplied_migration(client, monkeypatch):
    class Executor:
        def __init__(self, connection):
            self.loader = type("Loader", (), {"graph": type("G", (), {"leaf_nodes": list})()})

        def migration_plan(self, targets):
            return [("aid", "9999_new"), ("core", "9999_new")]

    monkeypatch.setattr(readiness, "MigrationExecutor", Executor)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == {"status": "error", "unapplied": 2}
    assert body["checks"]["database"] == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_fails(client, monkeypatch):
    def broken():
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(readiness, "check_database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["failing"] == ["database", "migrations"]
    assert body["checks"]["database"] == {"status": "error", "error": "OperationalError"}


@pytest.mark.django_db
def test_readyz_checks_redis_only_when_the_cache_or_queue_uses_it(client, monkeypatch):
    assert "redis" not in client.get("/readyz").json()["checks"]

    def unreachable():
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(readiness, "uses_redis", lambda: True)
    monkeypatch.setattr(readiness, "check_redis", unreachable)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["redis"]
    assert response.json()["checks"]["redis"] == {"status": "error", "error": "ConnectionError"}


def test_redis_check_pings_the_cache_and_the_queue_they_use(monkeypatch):
    calls = []

    class Storage:
        class conn:  # noqa: N801 - the attribute name huey's RedisStorage has
            @staticmethod
            def ping():
                calls.append("queue")

    class Cache:
        def get(self, key):
            calls.append("cache")

    monkeypatch.setattr(readiness, "_cache_uses_redis", lambda: True)
    monkeypatch.setattr(readiness, "_queue_uses_redis", lambda: True)
    monkeypatch.setattr(readiness, "caches", {"default": Cache()})
    from huey.contrib.djhuey import HUEY

    monkeypatch.setattr(HUEY, "storage", Storage())
    assert readiness.check_redis() == {"status": "ok"}
    assert calls == ["cache", "queue"]


@pytest.mark.django_db
def test_readyz_remembers_that_migrations_are_applied(client, django_assert_max_num_queries):
    client.get("/readyz")
    with django_assert_max_num_queries(1):
        assert client.get("/readyz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_unchanged_by_readiness(client):
    body = client.get("/healthz").json()
    assert set(body["checks"]) >= {"database", "queue"}
    assert "migrations" not in body["checks"]


def _redis_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db
@pytest.mark.skipif(not _redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_readyz_against_a_real_redis_cache_and_one_that_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
        }
    }
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["redis"] == {"status": "ok"}

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Port 9 (discard) answers nothing on loopback: refused at once.
            "LOCATION": "redis://127.0.0.1:9/15",
        }
    }
    ready, report = readiness.run_checks()
    assert not ready
    assert report["redis"] == {"status": "error", "error": "ConnectionError"}
    # Over HTTP the page cache's lookup meets the dead Redis first (a 500, not the view's
    # 503): either way a load balancer takes the server out of rotation.
    client.raise_request_exception = False
    assert client.get("/readyz").status_code >= 500
