"""The queue: immediate mode in tests, and one run of a real consumer process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from huey.contrib.djhuey import HUEY

from krov.core import tasks


def test_tasks_run_immediately_in_tests():
    assert HUEY.immediate
    ran: list[str] = []

    @HUEY.task()
    def remember(value: str) -> None:
        ran.append(value)

    remember("hello")
    assert ran == ["hello"]


def test_the_queue_keeps_no_task_results():
    """Nothing reads a task's result; kept, a failed task's exception (an SMTP refusal
    names the address it refused) would stay in the queue with no expiry."""
    assert HUEY.results is False

    @HUEY.task()
    def refuse() -> None:
        raise RuntimeError("refused: attendee@example.org")

    assert refuse() is None  # no result handle, so nothing stored for it


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
            assert HUEY.storage.conn.execute("pragma secure_delete").fetchone()[0] == 1
        HUEY.storage.flush_queue()
        tasks.echo("through a real worker")
        assert HUEY.pending_count() == 1
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="krov.settings")
        env.pop("DATABASE_URL", None)
        consumer = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "krov", "run_huey", "--workers", "1", "--quiet"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            # Results are not kept (settings.HUEY): the worker took the task and ran it.
            deadline = time.monotonic() + 60
            while HUEY.pending_count() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert HUEY.pending_count() == 0
        finally:
            consumer.send_signal(signal.SIGINT)
            consumer.wait(timeout=30)
    finally:
        HUEY.immediate = True
