"""Every log line's time in UTC, as ISO 8601 with milliseconds: 2026-12-06T03:09:07.212Z.

Django sets the process's TZ to TIME_ZONE when its settings load, so `%(asctime)s` with
logging's default (local time, no offset) gave Krov's lines in Europe/Belgrade time and the
lines gunicorn's arbiter wrote before loading Django in the machine's zone, side by side in
one journal and without an offset to tell them apart. This formatter ignores TZ: the
settings' LOGGING and krov.gunicorn_conf both use it, so web, worker and command lines sort
and compare as they are.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime


class UTCFormatter(logging.Formatter):
    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        moment = datetime.fromtimestamp(record.created, UTC)
        if datefmt:
            return moment.strftime(datefmt)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
