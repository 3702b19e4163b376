"""Core retention: expired cache files and old development mail leave the disk."""

from __future__ import annotations

import os
import time

import pytest
import time_machine
from django.core.cache import caches

from krov.core import retention

pytestmark = pytest.mark.django_db


@pytest.fixture
def file_cache(settings, tmp_path):
    settings.CACHES = {
        "default": settings.CACHES["default"],
        "files": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        },
    }
    yield caches["files"]
    caches["files"].clear()


def test_expired_cache_files_are_deleted_from_disk(file_cache, tmp_path):
    file_cache.set("short", "a client-derived value", timeout=1)
    file_cache.set("long", "kept", timeout=600)
    assert len(list((tmp_path / "cache").iterdir())) == 2
    with time_machine.travel(time.time() + 5):
        assert retention.prune_file_cache() == 1
    assert [p.suffix for p in (tmp_path / "cache").iterdir()] == [".djcache"]
    assert file_cache.get("long") == "kept"


def test_development_mail_older_than_a_day_is_deleted(settings, tmp_path):
    settings.EMAIL_FILE_PATH = str(tmp_path)
    old, new = tmp_path / "old.log", tmp_path / "new.log"
    old.write_text("To: someone@example.org")
    new.write_text("To: someone@example.org")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))
    assert retention.prune_mail_folder() == 1
    assert not old.exists() and new.exists()


def test_expired_entries_leave_the_embedded_sqlite_cache(settings, tmp_path):
    settings.CACHES = {
        "default": settings.CACHES["default"],
        "disk": {"BACKEND": "krov.core.cache.DiskCache", "LOCATION": str(tmp_path / "disk")},
    }
    disk = caches["disk"]
    disk.set("short", "a client-derived value", timeout=1)
    disk.set("long", "kept", timeout=600)
    with time_machine.travel(time.time() + 5):
        assert retention.prune_file_cache() == 1
    assert disk.get("long") == "kept"
    assert len(disk._cache) == 1
    disk._cache.close()
