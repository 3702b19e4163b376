"""Telegram intake benchmark against gunicorn on 127.0.0.1.

A burst of updates (default 10,000, 5% of them repeated update_ids) from several concurrent
senders, each chat's updates in order: /start, a language, a category, the request. Prints
accepted updates/s as a ratio against a bare view that only INSERTs the body (same server,
same run), the webhook's p50/p99 latency, then the worker's processing rate, and checks:
cases created = distinct requests sent, zero lost, zero doubled.

Run with `make bench` or `python -m bench.telegram_intake`. BENCH_DATABASE_URL runs it on
PostgreSQL instead of a fresh SQLite file. BENCH_UPDATES and BENCH_SENDERS set the burst.

BENCH_LOST_QUEUE=1: the queue loses every nudge after the burst (as when Redis restarts
without its data), and BENCH_DRAINERS (default 2) worker processes run the sweep's drain
(`krov.telegram.tasks.drain`) at the same time instead of a Huey worker: prints how long the
backlog took to drain, and the same checks (two drains side by side must double nothing).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from cryptography.fernet import Fernet

UPDATES = int(os.environ.get("BENCH_UPDATES", "10000"))
SENDERS = int(os.environ.get("BENCH_SENDERS", "8"))
LOST_QUEUE = os.environ.get("BENCH_LOST_QUEUE", "") == "1"
DRAINERS = int(os.environ.get("BENCH_DRAINERS", "2"))
REPEATS = 0.05
# As a Krov in use: a team key exists, so the webhook seals what comes in (bench/team_key);
# BENCH_SEALED=0 measures the path taken before sealing is set up.
SEALED = os.environ.get("BENCH_SEALED", "1") not in ("", "0")
SECRET = "bench-webhook-secret"  # noqa: S105 - benchmark value


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(data_dir: str) -> dict[str, str]:
    env = {
        **os.environ,
        "KROV_DEBUG": "0",
        "KROV_SECRET_KEY": "bench-" + "x" * 60,
        "KROV_FIELD_KEYS": Fernet.generate_key().decode(),
        "KROV_ALLOWED_HOSTS": "127.0.0.1",
        "KROV_SSL_REDIRECT": "0",
        "KROV_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        # No bot token: processing queues the bot's answers without sending them, so the
        # worker's rate is the dialogue's, not Telegram's 30 messages a second.
        "TELEGRAM_BOT_TOKEN": "",
        "REDIS_URL": "",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    env["DATABASE_URL"] = os.environ.get(
        "BENCH_DATABASE_URL", f"sqlite:///{data_dir}/bench.sqlite3"
    )
    return env


def chat_updates(chat_id: int, first_id: int) -> list[dict]:
    sender = {"id": chat_id, "is_bot": False, "first_name": "B", "language_code": "uk"}
    chat = {"id": chat_id, "type": "private"}
    now = int(time.time())

    def message(update_id: int, text: str) -> dict:
        return {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": now,
                "chat": chat,
                "from": sender,
                "text": text,
            },
        }

    def press(update_id: int, data: str) -> dict:
        return {
            "update_id": update_id,
            "callback_query": {
                "id": str(update_id),
                "from": sender,
                "chat_instance": str(chat_id),
                "data": data,
                "message": {"message_id": 1, "date": now, "chat": chat},
            },
        }

    return [
        message(first_id, "/start"),
        press(first_id + 1, "lang:uk"),
        press(first_id + 2, "cat:driving"),
        message(first_id + 3, f"Request from chat {chat_id}: please teach me to drive."),
    ]


def plan(rng: random.Random) -> tuple[list[list[bytes]], int, int]:
    """Per sender, the bodies to post in order; the number of chats and distinct updates."""
    distinct = int(UPDATES * (1 - REPEATS)) // 4 * 4
    chats = distinct // 4
    queues: list[list[bytes]] = [[] for _ in range(SENDERS)]
    for index in range(chats):
        for update in chat_updates(800_000_000 + index, 1_000_000 + index * 4):
            queues[index % SENDERS].append(json.dumps(update).encode())
    repeats = UPDATES - distinct
    for _ in range(repeats):
        queue = rng.choice(queues)
        position = rng.randrange(len(queue))
        queue.insert(rng.randrange(position, len(queue)) + 1, queue[position])
    return queues, chats, distinct


def burst(port: int, path: str, queues: list[list[bytes]]) -> tuple[float, list[float], dict]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def send(queue: list[bytes]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        for body in queue:
            begin = time.perf_counter()
            connection.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": SECRET,
                },
            )
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - begin)
            codes[response.status] = codes.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=send, args=(queue,)) for queue in queues]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def wait_for(port: int, deadline: float = 60) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start")


def django_shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", "import django; django.setup()\n" + code],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return result.stdout.strip()


# A worker process that only runs the sweep's drain over the whole backlog (no age limit).
DRAIN = """import django; django.setup()
from krov.telegram import outbox_keys, tasks
outbox_keys.hold()
tasks.drain(budget_seconds=900, older_than_seconds=0)
"""


def main() -> None:
    rng = random.Random(2026)  # noqa: S311 - benchmark data
    data_dir = tempfile.mkdtemp(prefix="krov-bench-tg-")
    os.makedirs(os.path.join(data_dir, "static"))
    env = environment(data_dir)
    krov = str(Path(sys.executable).with_name("krov"))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    subprocess.run([krov, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
    django_shell(
        env,
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        "    c.execute('CREATE TABLE bench_body (id integer primary key, body text)'"
        " if connection.vendor == 'sqlite' else "
        "'CREATE TABLE IF NOT EXISTS bench_body (id serial primary key, body text)')\n",
    )
    if SEALED:
        from bench import team_key

        django_shell(env, team_key.CODE)
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [
            gunicorn,
            "krov.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "4",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        wait_for(port)
        queues, chats, distinct = plan(rng)
        total = sum(len(queue) for queue in queues)
        base_seconds, base_latencies, base_codes = burst(port, "/bench/insert", queues)
        hook_seconds, hook_latencies, hook_codes = burst(port, "/telegram/webhook", queues)
    finally:
        server.terminate()
        server.wait(timeout=30)

    def p(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(len(values) * q))] * 1000

    base_rate, hook_rate = total / base_seconds, total / hook_seconds
    print(
        f"burst: {total} POSTs ({distinct} distinct updates, {total - distinct} repeats, "
        f"{chats} chats) from {SENDERS} senders; gunicorn 4 workers; "
        f"{'PostgreSQL' if 'BENCH_DATABASE_URL' in os.environ else 'SQLite'}; "
        f"{'a team key (sealing)' if SEALED else 'no team key'}"
    )
    print(f"{'endpoint':<28} {'req/s':>8} {'× baseline':>10} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    print(
        f"{'bare INSERT (baseline)':<28} {base_rate:>8.0f} {1.0:>10.2f} "
        f"{p(base_latencies, 0.5):>8.1f} {p(base_latencies, 0.99):>8.1f}  {base_codes}"
    )
    print(
        f"{'/telegram/webhook':<28} {hook_rate:>8.0f} {hook_rate / base_rate:>10.2f} "
        f"{p(hook_latencies, 0.5):>8.1f} {p(hook_latencies, 0.99):>8.1f}  {hook_codes}"
    )

    stored = int(
        django_shell(env, "from krov.telegram.models import Update\nprint(Update.objects.count())")
    )
    if LOST_QUEUE:
        django_shell(env, "from huey.contrib.djhuey import HUEY\nHUEY.flush()")
        workers = [
            subprocess.Popen(  # noqa: S603 - our own interpreter
                [sys.executable, "-c", DRAIN], env=env
            )
            for _ in range(DRAINERS)
        ]
        how = f"{DRAINERS} drains side by side, the queue lost"
    else:
        workers = [
            subprocess.Popen(  # noqa: S603
                [krov, "run_huey", "--workers", "4", "--worker-type", "thread", "--quiet"],
                env=env,
            )
        ]
        how = "4 threads"
    started = time.perf_counter()
    try:
        while True:
            pending = int(
                django_shell(
                    env,
                    "from krov.telegram.models import Update\n"
                    "print(Update.objects.filter(status='pending').count())",
                )
            )
            if pending == 0 or time.perf_counter() - started > 900:
                break
            time.sleep(1)
    finally:
        elapsed = time.perf_counter() - started
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    report = json.loads(
        django_shell(
            env,
            "import json\n"
            "from django.db.models import Count\n"
            "from krov.aid.models import HelpRequest\n"
            "from krov.telegram.models import Update, Outbound\n"
            "cases = HelpRequest.objects.filter(channel='telegram')\n"
            "doubled = cases.values('contact_lookup').annotate(n=Count('id')).filter(n__gt=1).count()\n"
            "print(json.dumps({'cases': cases.count(), 'doubled': doubled,"
            " 'done': Update.objects.filter(status='done').count(),"
            " 'parked': Update.objects.filter(status='parked').count(),"
            " 'pending': Update.objects.filter(status='pending').count(),"
            " 'queued_answers': Outbound.objects.filter(status='queued').count()}))",
        )
    )
    print(
        f"worker: {report['done']} updates processed in {elapsed:.1f} s = "
        f"{report['done'] / elapsed:.0f} updates/s ({how}; bot answers queued: "
        f"{report['queued_answers']}, sent later within Telegram's limits)"
    )
    lost = distinct - stored
    print(
        f"stored {stored} of {distinct} distinct updates (lost: {lost}); "
        f"cases created {report['cases']} for {chats} requests sent; "
        f"doubled: {report['doubled']}; parked: {report['parked']}; "
        f"pending: {report['pending']}"
    )
    ok = (
        lost == 0
        and report["cases"] == chats
        and report["doubled"] == 0
        and report["pending"] == 0
        and set(hook_codes) == {200}
    )
    print("CHECK:", "ok" if ok else "FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
