"""The queue: immediate mode in tests, and one run of a real consumer process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from huey.contrib.djhuey import HUEY

from krov.core import tasks


def test_tasks_run_immediately_in_tests():
    assert HUEY.immediate
    assert tasks.echo("hello")() == "hello"


@pytest.mark.slow
def test_real_consumer_process_runs_a_queued_task(tmp_path, settings):
    HUEY.immediate = False  # back to the configured SQLite queue file under KROV_DATA_DIR
    try:
        assert type(HUEY).__name__ == "EmbeddedHuey" or "Redis" in type(HUEY).__name__
        if type(HUEY).__name__ == "EmbeddedHuey":
            # As durable as Krov's own database, no more: an enqueue does not wait for
            # the disk (krov.core.queue).
            pragma = HUEY.storage.conn.execute("pragma synchronous").fetchone()[0]
            assert pragma == 1  # NORMAL
        result = tasks.echo("through a real worker")
        assert HUEY.pending_count() >= 1
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="krov.settings")
        env.pop("DATABASE_URL", None)
        consumer = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "krov", "run_huey", "--workers", "1", "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            assert result.get(blocking=True, timeout=60) == "through a real worker"
        finally:
            consumer.send_signal(signal.SIGINT)
            consumer.wait(timeout=30)
    finally:
        HUEY.immediate = True
