"""The embedded task queue (`make run`, a single server without Redis): Huey's SQLite
storage, with the durability Krov's own SQLite database has.

Huey opens its SQLite file in WAL mode and leaves `synchronous` at SQLite's default, FULL:
every enqueue waits for the disk (1.7 ms here against 0.06 ms), and the Telegram webhook
enqueues for every chat that starts waiting, inside the request. Krov's database runs with
`synchronous=NORMAL` in WAL mode (krov/settings.py), which loses no committed data when a
process dies, only the last transactions when the machine loses power; a queue kept more
durably than the data its tasks are about buys nothing. Nudges lost that way are found by
the sweeps (`krov.telegram.tasks.drain` and the like), as when Redis restarts."""

from __future__ import annotations

from huey import SqliteHuey
from huey.storage import SqliteStorage


class EmbeddedStorage(SqliteStorage):
    def _create_connection(self):
        connection = super()._create_connection()
        connection.execute("pragma synchronous=NORMAL")
        # As Krov's database: a task's row, once done, is overwritten with zeros, not left
        # in a free page (a nudge names an update, and when it came is worth keeping from a
        # seized disk).
        connection.execute("pragma secure_delete=ON")
        return connection


class EmbeddedHuey(SqliteHuey):
    storage_class = EmbeddedStorage
