"""Leases: a lock that lets go by itself.

A worker that is killed mid-task (SIGKILL, a lost machine) never releases a plain lock, and
Huey's `lock_task` has no expiry on the Redis Krov runs: the task it guards would then never
run again. A lease is an entry in the shared cache (Redis, or the SQLite cache, whose `add`
is atomic across processes) that expires after `seconds`; its holder renews it while it
works and deletes it when done.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache


class Taken(Exception):
    """Someone else holds the lease."""


class Lease:
    def __init__(self, name: str, seconds: int) -> None:
        self.key = f"lease:{name}"
        self.seconds = seconds
        self.token = secrets.token_hex(8)

    def renew(self) -> bool:
        """Extend the lease; False when it lapsed and someone else holds it now."""
        if cache.get(self.key) != self.token:
            return False
        cache.set(self.key, self.token, timeout=self.seconds)
        return True


@contextmanager
def lease(name: str, seconds: int) -> Iterator[Lease]:
    """Hold the lease `name` for at most `seconds` (renew it to hold it longer); raises
    Taken when another holder has it. A failing cache raises its own error."""
    held = Lease(name, seconds)
    if not cache.add(held.key, held.token, timeout=seconds):
        raise Taken(name)
    try:
        yield held
    finally:
        if cache.get(held.key) == held.token:
            cache.delete(held.key)
