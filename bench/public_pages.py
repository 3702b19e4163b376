"""Public event pages under gunicorn on 127.0.0.1, with 50,000 events in the database.

Prints, at concurrency 16 and 64, requests/s and p99 of the event list, an event detail
page and the live queue's 304 answer, each as a ratio against a bare Django view measured
in the same run; the query counts of list and detail with 100 and with 50,000 events (they
must be equal); and the gzip-transferred bytes of the detail page with its CSS and JS
(budget: 60 KB). Run with `make bench` or `python -m bench.public_pages`.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.telegram_intake import django_shell, environment, free_port, wait_for

EVENTS = int(os.environ.get("BENCH_EVENTS", "50000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
BUDGET = 60 * 1024

SEED = """
from datetime import timedelta
from django.utils import timezone
from krov.accounts import services as accounts
from krov.events import services
from krov.events.models import Event, EventText
organiser = accounts.create_account(email="o@bench.local", pseudonym="Org", password=None,
                                    roles=["organiser"])
start = timezone.now() + timedelta(days=1)
event = services.create_event(actor=organiser, title="Open mic", language="en", kind="open_mic",
    starts_at=start, ends_at=start + timedelta(hours=3), address="Kraljice Natalije 11",
    summary="Anyone who wants gets the microphone.", description="**Welcome**, everyone.")
services.publish(event, actor=organiser)
services.sign_up(event, stage_name="Lira", actor=organiser)
print(event.slug)
"""

BULK = """
from datetime import timedelta
from django.utils import timezone
from krov.events.models import Event, EventText
have = Event.objects.count()
start = timezone.now() + timedelta(days=2)
events = [Event(slug=f"bench-{{i}}", kind="lecture", original_language="en",
                starts_at=start + timedelta(hours=i), ends_at=start + timedelta(hours=i + 2),
                status="published", address="Somewhere 1") for i in range({count})]
Event.objects.bulk_create(events, batch_size=2000)
ids = Event.objects.filter(slug__startswith="bench-").values_list("pk", flat=True)
EventText.objects.bulk_create(
    [EventText(event_id=pk, language="en", title=f"Lecture {{pk}}", summary="A talk.")
     for pk in ids], batch_size=2000)
print(Event.objects.count())
"""

QUERIES = """
import json
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
counts = {{}}
for name, url in [("list", "/en/events/"), ("detail", "/en/events/{slug}/")]:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        status = Client(SERVER_NAME="127.0.0.1").get(url).status_code
    counts[name] = [status, len(captured)]
print(json.dumps(counts))
"""


def load(
    port: int, path: str, concurrency: int, total: int, headers=None
) -> tuple[float, float, dict]:
    per = max(1, total // concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, codes = [], {}
        for _ in range(per):
            begin = time.perf_counter()
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - begin)
            codes[response.status] = codes.get(response.status, 0) + 1
        connection.close()
        with lock:
            latencies.extend(mine)
            for code, count in codes.items():
                statuses[code] = statuses.get(code, 0) + count

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] * 1000
    return len(latencies) / elapsed, p99, statuses


def fetch(port: int, path: str, headers=None) -> tuple[int, bytes, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    result = (response.status, body, dict(response.getheaders()))
    connection.close()
    return result


def transferred(port: int, slug: str) -> tuple[int, list[tuple[str, int]]]:
    """Bytes over the wire with gzip: the page (compressed as a proxy would) plus its assets."""
    import re

    status, html, _headers = fetch(port, f"/en/events/{slug}/")
    assert status == 200, status
    parts = [("page (gzip)", len(gzip.compress(html)))]
    for asset in re.findall(rb'(?:href|src)="(/static/[^"]+)"', html):
        status, body, headers = fetch(port, asset.decode(), {"Accept-Encoding": "gzip"})
        size = len(body) if headers.get("Content-Encoding") == "gzip" else len(gzip.compress(body))
        parts.append((asset.decode(), size))
    return sum(size for _name, size in parts), parts


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="krov-bench-pages-")
    os.makedirs(os.path.join(data_dir, "static"))
    env = environment(data_dir)
    krov = str(Path(sys.executable).with_name("krov"))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    subprocess.run([krov, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [krov, "collectstatic", "--noinput", "--verbosity", "0"], env=env, check=True
    )
    slug = django_shell(env, SEED).splitlines()[-1]
    django_shell(env, BULK.format(count=99))
    small = json.loads(django_shell(env, QUERIES.format(slug=slug)))
    total = int(django_shell(env, BULK.format(count=EVENTS - 100).replace("bench-", "bench2-")))
    large = json.loads(django_shell(env, QUERIES.format(slug=slug)))
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
        _status, _body, headers = fetch(port, f"/en/events/{slug}/live/state/")
        etag = headers["ETag"]
        pages = [
            ("bare view (baseline)", "/bench/hello", None),
            ("event list /en/events/", "/en/events/", None),
            ("event detail", f"/en/events/{slug}/", None),
            ("live queue 304", f"/en/events/{slug}/live/state/", {"If-None-Match": etag}),
        ]
        for path in ("/en/events/", f"/en/events/{slug}/"):
            fetch(port, path)  # warm the public page cache, as visitors would
        print(f"{total} events in SQLite; gunicorn 4 workers; {REQUESTS} requests per line")
        for concurrency in (16, 64):
            print(f"\nconcurrency {concurrency}")
            print(f"{'page':<28} {'req/s':>8} {'× bare':>8} {'p99 ms':>8}  statuses")
            base = None
            for name, path, headers in pages:
                rate, p99, statuses = load(port, path, concurrency, REQUESTS, headers)
                base = base or rate
                print(f"{name:<28} {rate:>8.0f} {rate / base:>8.2f} {p99:>8.1f}  {statuses}")
        size, parts = transferred(port, slug)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nqueries          100 events  {total} events")
    for name in ("list", "detail"):
        print(f"{name:<16} {small[name][1]:>10}  {large[name][1]:>10}")
    print(f"\ndetail page transferred: {size / 1024:.1f} KB (budget {BUDGET // 1024} KB)")
    for name, part in parts:
        print(f"  {name:<52} {part / 1024:>6.1f} KB")
    ok = small == large and size <= BUDGET and all(v[0] == 200 for v in small.values())
    print("CHECK:", "ok" if ok else "FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
