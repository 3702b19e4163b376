"""Every log line's time is UTC in ISO 8601, in Krov's own logs and gunicorn's alike,
whatever TIME_ZONE (which Django makes the process's local time)."""

from __future__ import annotations

import io
import logging
import logging.config
import time
from datetime import UTC, datetime

import pytest

from krov import gunicorn_conf

# 2026-03-29 01:30:00.250 UTC: 03:30 in Belgrade (summer time began that night).
MOMENT = datetime(2026, 3, 29, 1, 30, 0, 250000, tzinfo=UTC).timestamp()


def line_from(config: dict, logger_name: str) -> str:
    """Configure logging from `config` with its console handler writing into a buffer, log
    one record made at MOMENT, and return the line."""
    stream = io.StringIO()
    config = {
        **config,
        "handlers": {
            name: {**handler, "stream": stream} for name, handler in config["handlers"].items()
        },
        "disable_existing_loggers": False,
    }
    logging.config.dictConfig(config)
    logger = logging.getLogger(logger_name)
    record = logger.makeRecord(logger_name, logging.ERROR, __file__, 1, "hello", (), None)
    record.created = MOMENT
    record.msecs = 250.0
    logger.handle(record)
    return stream.getvalue()


@pytest.fixture
def belgrade_local_time(monkeypatch):
    """The process's local time as Django leaves it with TIME_ZONE=Europe/Belgrade."""
    monkeypatch.setenv("TZ", "Europe/Belgrade")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def restore_logging(settings):
    yield
    logging.config.dictConfig(settings.LOGGING)


def test_krov_log_lines_carry_utc_iso_8601_times_not_local_time(
    settings, belgrade_local_time, restore_logging
):
    assert time.localtime(MOMENT).tm_hour == 3  # local time is not UTC here
    line = line_from(settings.LOGGING, "django.request")
    assert line.startswith("2026-03-29T01:30:00.250Z ERROR django.request hello")


def test_gunicorn_log_lines_carry_the_same_utc_times(belgrade_local_time, restore_logging):
    line = line_from(gunicorn_conf.logconfig_dict, "gunicorn.error")
    assert line.startswith("2026-03-29T01:30:00.250Z ERROR gunicorn.error hello")


def test_krov_and_gunicorn_lines_share_one_format(settings):
    ours = settings.LOGGING["formatters"]["plain"]
    theirs = gunicorn_conf.logconfig_dict["formatters"]["plain"]
    assert ours == theirs
