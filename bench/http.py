"""`make bench-http`: Krov over HTTP against bare Django, on 127.0.0.1 only.

Starts three gunicorns with the same configuration (krov.gunicorn_conf, 2 sync workers): a
bare Django project (bench/bare: startproject's settings, a "hello" view and a one-row
INSERT view), and Krov with production settings (DEBUG off, static files collected, SQLite,
the embedded cache) and demo data. Drives every URL with wrk (Debian's package, installed if
missing) round-robin, BENCH_RUNS rounds (default 1) of BENCH_DURATION seconds (default 5) per
cell at 16 and 64 connections (BENCH_CONNECTIONS), and prints one table: req/s, p50, p99
(medians over the rounds) and the ratio to the baseline (pages: bare hello; webhook: bare
INSERT). The webhook's lost/doubled checks are `python -m bench.telegram_intake`'s.

`BENCH_PAIRED=1` runs the baseline again just before every Krov cell and gives each cell's
ratio as the median, over the rounds, of its req/s over that baseline's: on a shared machine
whose load drifts from one minute to the next, a ratio of two runs seconds apart says more
than one against a baseline measured minutes earlier (the run takes about twice as long).

The webhook's cells send updates from `BENCH_CHATS` chats (default 5,000: nearly every update
is a new chat for the worker that answers it, so the cell mostly measures Argon2id of the
chat id; 10 measures the rest of the request), with a team key made first as a Krov in use
has one (`BENCH_SEALED=0`: none, the path before sealing is set up).

`BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/krov_bench_http` runs Krov and the bare
INSERT on PostgreSQL instead of SQLite (the database, whose name must start with
"krov_bench", is dropped and made again before the run and dropped after it; both keep
their connections, as Krov does).

`BENCH_URLS` (comma-separated, e.g. "/en/,/sitemap.xml,/api/v1/events,webhook") keeps only
the Krov cells whose URL is one of them ("webhook" for the webhook); the baselines always run.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

from bench import postgres, team_key

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_RUNS", "1"))
DURATION = int(os.environ.get("BENCH_DURATION", "5"))
CONNECTIONS = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,64").split(",")]
PAIRED = os.environ.get("BENCH_PAIRED", "") not in ("", "0")
ONLY = {url.strip() for url in os.environ.get("BENCH_URLS", "").split(",") if url.strip()}
SECRET = "bench-webhook-secret"  # noqa: S105 - benchmark value
# The webhook's updates come from this many chats, round-robin (each worker pays Argon2id
# once per chat it sees: few chats measure the rest of the request, many measure Argon2id).
CHATS = int(os.environ.get("BENCH_CHATS", "5000"))
# As a Krov in use: a team key exists, so the webhook seals what comes in (bench/team_key).
SEALED = os.environ.get("BENCH_SEALED", "1") not in ("", "0")
# PostgreSQL instead of SQLite for Krov and the bare INSERT (bench/postgres).
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "")

POST_SCRIPT = """
local base = 0
local counter = 0
local threads = {}
function setup(thread) thread:set("tid", #threads) table.insert(threads, thread) end
function init(args) base = tonumber(args[1]) + tonumber(tid) * 10000000 end
request = function()
  counter = counter + 1
  local id = base + counter
  local chat = 900000000 + id % CHATS
  local body = string.format('{"update_id":%d,"message":{"message_id":%d,"date":%d,'
    .. '"chat":{"id":%d,"type":"private"},"from":{"id":%d,"is_bot":false,'
    .. '"first_name":"B"},"text":"/start"}}', id, id, os.time(), chat, chat)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["X-Telegram-Bot-Api-Secret-Token"] = "SECRET"}, body)
end
""".replace("SECRET", SECRET).replace("CHATS", str(CHATS))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing Debian's package", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    return shutil.which("wrk") or "wrk"


def environment(data_dir: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KROV_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        KROV_DEBUG="0",
        KROV_SECRET_KEY="bench-" + "x" * 60,
        KROV_FIELD_KEYS=Fernet.generate_key().decode(),
        KROV_ALLOWED_HOSTS="127.0.0.1",
        KROV_SSL_REDIRECT="0",  # loopback: no TLS here
        KROV_DATA_DIR=data_dir,
        # The API's per-client limit still counts every request, but does not refuse them.
        KROV_API_PER_MINUTE="1000000000",
        TELEGRAM_WEBHOOK_SECRET=SECRET,
        TELEGRAM_BOT_TOKEN="",
        PYTHONPATH=str(ROOT),
    )
    return env


def gunicorn(app: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    binary = str(Path(sys.executable).with_name("gunicorn"))
    return subprocess.Popen(  # noqa: S603
        [binary, "-c", "python:krov.gunicorn_conf", app, "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "2", "--log-level", "warning"],
        env=env,
        cwd=str(ROOT),
    )


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"Host": "127.0.0.1"})
    response = connection.getresponse()
    return response.status, response.read()


def wait_for(port: int, path: str, deadline: float = 90) -> None:
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        try:
            get(port, path)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answers on 127.0.0.1:{port}")


def krov_urls(env: dict[str, str]) -> list[str]:
    code = (
        "import django, json; django.setup()\n"
        "from krov.events.models import Event\n"
        "from krov.bulletins.models import Post\n"
        "from krov.directory.models import Organisation\n"
        "e = Event.objects.public().order_by('starts_at').first()\n"
        "p = Post.objects.filter(status='published').first()\n"
        "o = Organisation.objects.first()\n"
        "print(json.dumps([x.slug if x else '' for x in (e, p, o)]))\n"
    )
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "krov.settings"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    event, post, organisation = json.loads(out.strip().splitlines()[-1])
    urls = ["/en/", "/en/events/"]
    urls += [f"/en/events/{event}/"] if event else []
    urls += ["/en/bulletins/"] + ([f"/en/bulletins/{post}/"] if post else [])
    urls += ["/en/housing/rents/", "/en/directory/"]
    urls += [f"/en/directory/{organisation}/"] if organisation else []
    urls += ["/en/guides/", "/api/v1/events", "/events/feed.ics", "/en/bulletins/feed/"]
    return urls + ["/robots.txt", "/sitemap.xml"]


def wrk(binary: str, url: str, connections: int, script: str = "", base: int = 0) -> dict:
    command = [binary, "-t2", f"-c{connections}", f"-d{DURATION}s", "--latency", "--timeout", "5s"]
    if script:
        command += ["-s", script]
    command.append(url)
    if script:
        command += ["--", str(base)]
    out = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, check=True, timeout=DURATION + 30
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rate": rate,
        "p50": latency("50"),
        "p99": latency("99"),
        "bad": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    if not DATABASE_URL:
        run()
        return
    name, admin_url = postgres.parse(DATABASE_URL)
    postgres.recreate(admin_url, name, create=True)
    try:
        run()
    finally:
        postgres.recreate(admin_url, name, create=False)


def bare_database(data_dir: str) -> dict[str, str]:
    """The bare INSERT's table, in a SQLite file configured as Krov's or in the bench's
    PostgreSQL database; the variables that tell the bare project where."""
    if DATABASE_URL:
        import psycopg

        with psycopg.connect(DATABASE_URL.replace("postgres://", "postgresql://", 1)) as db:
            db.execute("CREATE TABLE bench_body (id bigserial primary key, body text)")
        return {"BENCH_BARE_DATABASE_URL": DATABASE_URL}
    bare_db = os.path.join(data_dir, "bare.sqlite3")
    with sqlite3.connect(bare_db) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE bench_body (id integer primary key, body text)")
    return {"BENCH_BARE_DATABASE": bare_db}


def run() -> None:
    binary = ensure_wrk()
    data_dir = tempfile.mkdtemp(prefix="krov-bench-http-")
    env = environment(data_dir)
    if DATABASE_URL:
        env["DATABASE_URL"] = DATABASE_URL
    krov = str(Path(sys.executable).with_name("krov"))
    for args in (["migrate", "--noinput", "-v0"], ["collectstatic", "--noinput", "-v0"]):
        subprocess.run([krov, *args], env=env, check=True)  # noqa: S603
    subprocess.run([krov, "demo", "--force"], env=env, check=True, capture_output=True)  # noqa: S603
    if SEALED:
        subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", "import django; django.setup()\n" + team_key.CODE],
            env={**env, "DJANGO_SETTINGS_MODULE": "krov.settings"},
            check=True,
        )
    bare_env = {**env, **bare_database(data_dir), "DJANGO_SETTINGS_MODULE": ""}
    bare_env.pop("DJANGO_SETTINGS_MODULE")
    bare_env.pop("DATABASE_URL", None)
    script = os.path.join(data_dir, "post.lua")
    Path(script).write_text(POST_SCRIPT)

    bare_port, krov_port = free_port(), free_port()
    servers = [
        gunicorn("bench.bare.wsgi", bare_port, bare_env),
        gunicorn("krov.wsgi", krov_port, env),
    ]
    try:
        wait_for(bare_port, "/hello")
        wait_for(krov_port, "/healthz")
        urls = [url for url in krov_urls(env) if not ONLY or url in ONLY]
        webhook = not ONLY or "webhook" in ONLY
        for url in urls:  # fill the caches; a page that fails is a finding, not a crash
            status, _body = get(krov_port, url)
            if status != 200:
                print(f"warning: {url} answered {status}", flush=True)
        cells: list[tuple[str, int, str, str]] = [
            ("bare hello", bare_port, "/hello", ""),
            *([("bare INSERT", bare_port, "/insert", script)] if webhook else []),
            *[(url, krov_port, url, "") for url in urls],
            *(
                [("POST /telegram/webhook", krov_port, "/telegram/webhook", script)]
                if webhook
                else []
            ),
        ]
        results: dict[tuple[str, int], list[dict]] = {}
        paired: dict[tuple[str, int], list[float]] = {}
        base = 100_000_000

        def measure(cell: tuple[str, int, str, str], connections: int) -> dict:
            nonlocal base
            name, port, path, lua = cell
            base += 1_000_000_000
            url = f"http://127.0.0.1:{port}{path}"
            result = wrk(binary, url, connections, lua, base)
            results.setdefault((name, connections), []).append(result)
            return result

        baselines = {cell[3] != "": cell for cell in cells if cell[0].startswith("bare ")}
        for _round in range(RUNS):
            for cell in cells:
                for connections in CONNECTIONS:
                    if PAIRED and not cell[0].startswith("bare "):
                        before = measure(baselines[cell[3] != ""], connections)
                        rate = measure(cell, connections)["rate"]
                        paired.setdefault((cell[0], connections), []).append(rate / before["rate"])
                    else:
                        measure(cell, connections)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=30)

    def median(name: str, connections: int, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, connections)])

    print(
        f"\n{RUNS} round(s) x {DURATION} s per cell, wrk -t2, gunicorn 2 sync workers, "
        f"127.0.0.1, {'PostgreSQL' if DATABASE_URL else 'SQLite'}, embedded cache"
        + f"; webhook: {CHATS} chats, {'a team key (sealing)' if SEALED else 'no team key'}"
        + (", each ratio against the baseline run just before it" if PAIRED else "")
    )
    print(f"{'URL':<32} {'conn':>4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'ratio':>6} bad")
    for name, _port, _path, lua in cells:
        baseline = "bare INSERT" if lua else "bare hello"
        for connections in CONNECTIONS:
            rate = median(name, connections, "rate")
            ratio = rate / median(baseline, connections, "rate")
            if (name, connections) in paired:
                ratio = statistics.median(paired[(name, connections)])
            bad = sum(r["bad"] for r in results[(name, connections)])
            print(
                f"{name:<32} {connections:>4} {rate:>8.0f} "
                f"{median(name, connections, 'p50'):>7.2f} "
                f"{median(name, connections, 'p99'):>7.2f} {ratio:>6.2f} {bad}"
            )


if __name__ == "__main__":
    main()
