"""Files Krov writes hold what a seized disk should not give to other local users: the
SQLite database (and its WAL), the queue, keys, mail. They are the owner's alone."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_done: set[str] = set()


def make_owner_only(path: Path) -> bool:
    """chmod 600 when group or others may read; True when the mode was changed."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return False
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, stat.S_IMODE(mode) & ~(stat.S_IRWXG | stat.S_IRWXO))
        return True
    return False


def owner_only_sqlite(sender, connection, **kwargs) -> None:
    """On the first connection of a process to a SQLite file: the file, its WAL and shared
    memory, and the queue's file beside it become owner-only (SQLite gives the WAL the
    database file's permissions, so fixing the file once is enough for new WALs)."""
    if connection.vendor != "sqlite":
        return
    name = str(connection.settings_dict.get("NAME") or "")
    if not name or name.startswith(":memory:") or "mode=memory" in name or name in _done:
        return
    _done.add(name)
    from django.conf import settings

    database = Path(name)
    for path in (database, Path(f"{name}-wal"), Path(f"{name}-shm")):
        make_owner_only(path)
    queue = getattr(settings, "HUEY", {}).get("filename")
    if queue:
        for path in (Path(queue), Path(f"{queue}-wal"), Path(f"{queue}-shm")):
            make_owner_only(path)
