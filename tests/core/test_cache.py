"""krov.core.cache: the embedded default cache is shared by processes, and its `add` and
`incr` are atomic across them (rate limits count exactly, one `add` wins)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache import caches, close_caches

from krov import settings as krov_settings
from krov.core.cache import DiskCache

# Each process waits for the go file, then races the others on the same keys.
RACER = """
import json, os, sys, time
from django.core.cache import cache
from krov.core import ratelimit
go, keys, hits, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
cache.get("warm-up")  # open the databases before the start
print("ready", flush=True)
while not os.path.exists(go):
    time.sleep(0.001)
won = [k for k in range(keys) if cache.add(f"race:{k}", os.getpid(), timeout=600)]
allowed = sum(
    ratelimit.hit("race", "one-client", limit=limit, window=3600, now=1_800_000_000.0)
    for _ in range(hits)
)
print(json.dumps({"won": won, "allowed": allowed}), flush=True)
"""


def race(tmp_path: Path, processes: int, keys: int, hits: int, limit: int) -> list[dict]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KROV_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="krov.settings",
        KROV_DEBUG="1",
        KROV_SECRET_KEY="race-" + "s" * 40,
        KROV_DATA_DIR=str(tmp_path),
        REDIS_URL="",
    )
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", RACER, str(go), str(keys), str(hits), str(limit)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            line = racer.stdout.readline()
            assert line.strip() == "ready", racer.stderr.read() if racer.stderr else line
        go.touch()
        results = []
        for racer in racers:
            out, err = racer.communicate(timeout=120)
            assert racer.returncode == 0, err
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
    return results


def test_the_embedded_default_is_the_sqlite_cache_in_the_data_folder():
    if krov_settings.REDIS_URL:
        pytest.skip("REDIS_URL is set: the cache is Redis")
    default = krov_settings.CACHES["default"]
    assert default["BACKEND"] == "krov.core.cache.DiskCache"
    assert default["LOCATION"].startswith(str(krov_settings.DATA_DIR))


@pytest.mark.slow
def test_add_has_exactly_one_winner_and_a_rate_limit_holds_across_processes(tmp_path):
    processes, keys, hits, limit = 4, 150, 40, 57
    results = race(tmp_path, processes, keys, hits, limit)
    winners: dict[int, int] = {}
    for result in results:
        for key in result["won"]:
            winners[key] = winners.get(key, 0) + 1
    assert winners == {key: 1 for key in range(keys)}
    # 160 hits on one client's counter from four processes: exactly `limit` let through.
    assert sum(result["allowed"] for result in results) == limit


@pytest.fixture
def disk_cache(settings, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "krov.core.cache.DiskCache", "LOCATION": str(tmp_path / "c")}
    }
    yield caches["default"]
    caches["default"]._cache.close()


def test_connections_stay_open_when_a_request_finishes(disk_cache):
    """Django closes caches after every request; reopening four databases would cost more
    than a cached page."""
    assert isinstance(disk_cache, DiskCache)
    disk_cache.set("k", "v")
    shard_connections = [shard._local.con for shard in disk_cache._cache._shards]
    close_caches()  # what Django runs when a request finishes
    assert disk_cache.get("k") == "v"
    assert [shard._local.con for shard in disk_cache._cache._shards] == shard_connections


def test_the_embedded_cache_holds_no_client_address_on_disk(db, disk_cache, client, tmp_path):
    """The rule for every cache: no client address, secret or token, in keys or values,
    also not in the database files (rate limits key by an HMAC of the address)."""
    from tests.conftest import make_persona

    persona = make_persona("member")
    address = "203.0.113.77"
    for i in range(3):
        client.post(
            "/en/accounts/login/",
            {"login": persona.user.email, "password": f"wrong {i}"},
            REMOTE_ADDR=address,
        )
    client.get("/api/v1/events", REMOTE_ADDR=address)
    disk_cache._cache.close()  # flush what SQLite holds in memory
    stored = b"".join(path.read_bytes() for path in (tmp_path / "c").rglob("*") if path.is_file())
    assert len(disk_cache._cache) > 0
    assert address.encode() not in stored
    assert persona.user.email.encode() not in stored
