"""The rent index with 1,000,000 observations (6 years × 17 districts), on SQLite and on
PostgreSQL (when one answers on 127.0.0.1:5432).

For each database, in one run:
- full rebuild (`index.rebuild()`: medians and quartiles per district and month and for
  the city, read by walking the observation indexes) as a ratio against a plain `SELECT district, month, COUNT(*), AVG(rent) … GROUP BY` over
  the same table;
- an incremental update after adding 1,000 observations to one month, as a ratio of the
  full rebuild;
- the rents page (cache cleared before each request): query count and time with 10,000
  and with 1,000,000 observations, as a ratio against a bare view.

Run with `make bench` or `python -m bench.rent_index`; BENCH_OBSERVATIONS changes the size,
BENCH_DATABASES (default "sqlite,postgresql") the databases, BENCH_PG_DATABASE the name of
the PostgreSQL database made for the run (default "krov_bench_rents"), BENCH_REPEAT the
number of (GROUP BY, rebuild) pairs (default 5; the ratio is the pairs' median),
BENCH_KEEP_DATABASE=1 keeps the PostgreSQL database after the run (to EXPLAIN its statements;
the next run drops it). Other times
are medians of three runs; on a shared machine compare only ratios from the same run.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.fernet import Fernet

OBSERVATIONS = int(os.environ.get("BENCH_OBSERVATIONS", "1000000"))
# Which databases to run, e.g. BENCH_DATABASES=postgresql for that one alone.
DATABASES = os.environ.get("BENCH_DATABASES", "sqlite,postgresql").split(",")
SMALL = 10_000
# Pairs of (GROUP BY, full rebuild) timed; BENCH_REPEAT changes it.
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
# BENCH_PG_DATABASE names the (dropped and re-created) PostgreSQL database, so that two
# runs on one server need not share one.
PG_DB = os.environ.get("BENCH_PG_DATABASE", "krov_bench_rents")
KEEP = os.environ.get("BENCH_KEEP_DATABASE", "") == "1"
COLUMNS = (
    "observed_on, month, district_id, size_m2, rent, currency, rate, rent_eur, per_m2, "
    "source, status"
)


def _timed(fn, repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _insert(rows: list[tuple]) -> None:
    from django.db import connection

    table = "housing_rentobservation"
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with (
            connection.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy,  # noqa: S608
        ):
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * 11)
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({COLUMNS}) VALUES ({marks})", rows)  # noqa: S608


def _rows(count: int, *, seed: int):
    from django.utils import timezone

    from krov.housing import synthetic
    from krov.housing.importer import plausible
    from krov.housing.models import District

    districts = dict(District.objects.values_list("slug", "id"))
    per_month = sum(n for _level, n in synthetic.LEVELS.values())
    months = 71
    scale = count / (per_month * months)
    out = []
    for row in synthetic.rows(districts, end=timezone.localdate(), seed=seed, scale=scale):
        day, month, district_id, size, rent, currency, rate, rent_eur, per_m2 = row
        status = "ok" if plausible(rent_eur, size) else "implausible"
        out.append((day, month, district_id, size, rent, currency, rate, rent_eur, per_m2,
                    "bench", status))  # fmt: skip
        if len(out) == count:
            break
    return out


def _page(client, path: str, rounds: int = 20) -> tuple[float, int]:
    from django.core.cache import cache
    from django.db import connection

    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    cache.clear()
    with connection.execute_wrapper(count):
        response = client.get(path)
    assert response.status_code == 200, response.status_code
    samples = []
    for _ in range(rounds):
        cache.clear()
        started = time.perf_counter()
        client.get(path)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples), len(queries)


def worker() -> dict:
    """Runs inside a process whose environment names the database."""
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.urls"
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from krov.housing import index
    from krov.housing.models import RentObservation

    call_command("migrate", verbosity=0)
    client = Client()
    result: dict = {"vendor": connection.vendor, "observations": OBSERVATIONS}

    started = time.perf_counter()
    rows = _rows(OBSERVATIONS, seed=7)
    result["generate_s"] = time.perf_counter() - started

    # The small set is a sample across all months, so both page loads show the same cells.
    step = max(1, len(rows) // SMALL)
    _insert(rows[::step])
    index.rebuild()
    hello = _page(client, "/bench/hello")[0]
    result["small"] = RentObservation.objects.count()
    result["page_small_s"], result["page_small_queries"] = _page(client, "/en/housing/rents/")
    result["hello_s"] = hello

    started = time.perf_counter()
    _insert([row for i, row in enumerate(rows) if i % step])
    result["insert_s"] = time.perf_counter() - started
    if connection.vendor == "postgresql":
        # What autovacuum does after a bulk insert (PostgreSQL 13+ also vacuums insert-only
        # tables): statistics, and the visibility map that lets index-only scans skip the
        # table. VACUUM cannot run inside a transaction; Django's connection autocommits.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE housing_rentobservation")
    result["count"] = RentObservation.objects.count()

    def group_by():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT district_id, month, COUNT(*), AVG(rent_eur) "
                "FROM housing_rentobservation GROUP BY district_id, month"
            )
            cursor.fetchall()

    group_by()  # warm the page cache of the database
    index.rebuild()
    # In pairs, each rebuild right after its GROUP BY, so that both see the same load on a
    # shared machine; the ratio is the median of the pairs'.
    pairs = [(_timed(group_by), _timed(index.rebuild)) for _ in range(REPEAT)]
    result["group_by_s"] = statistics.median(g for g, _r in pairs)
    result["rebuild_s"] = statistics.median(r for _g, r in pairs)
    result["ratio"] = statistics.median(r / g for g, r in pairs)
    result["ratios"] = sorted(round(r / g, 2) for g, r in pairs)
    result["months"] = len(set(RentObservation.objects.values_list("month", flat=True)))

    latest = index.latest_month()
    # Rows of the latest month again (the generator goes month by month from 2021, so a
    # fresh small sample would hold none of them).
    extra = [r for r in rows if r[1] == latest][:1000]
    while extra and len(extra) < 1000:
        extra += extra[: 1000 - len(extra)]
    _insert([(*r[:9], "bench-extra", r[10]) for r in extra])
    result["incremental_s"] = _timed(lambda: index.recompute([latest]), repeat=3)

    hello = _page(client, "/bench/hello")[0]
    result["page_large_s"], result["page_large_queries"] = _page(client, "/en/housing/rents/")
    result["hello_large_s"] = hello
    result["district_page_s"], result["district_page_queries"] = _page(
        client, "/en/housing/rents/vracar/"
    )
    result["chart_s"], result["chart_queries"] = _page(client, "/en/housing/rents/city/chart.svg")
    return result


def _postgres_available() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1).close()
    except OSError:
        return False
    return True


def _run(database_url: str, data_dir: str) -> dict:
    env = {
        **os.environ,
        "KROV_DEBUG": "0",
        "KROV_SECRET_KEY": "bench-" + "x" * 60,
        "KROV_FIELD_KEYS": Fernet.generate_key().decode(),
        "KROV_ALLOWED_HOSTS": "testserver",
        "KROV_SSL_REDIRECT": "0",
        "KROV_DATA_DIR": data_dir,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    out = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", "bench.rent_index", "--worker"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    if out.returncode:
        sys.stderr.write(out.stderr[-4000:])
        raise SystemExit(f"rent index bench failed on {database_url}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _report(r: dict) -> None:
    print(f"-- {r['vendor']}: {r['count']:,} observations over {r['months']} months")
    print(f"   plain GROUP BY (COUNT, AVG)   {r['group_by_s'] * 1000:9.1f} ms   = 1.0 (baseline)")
    print(
        f"   full rebuild (median, IQR)    {r['rebuild_s'] * 1000:9.1f} ms   = "
        f"{r['ratio']:.1f}× the GROUP BY (pairs: {', '.join(map(str, r['ratios']))})"
    )
    print(
        f"   +1,000 in one month, update   {r['incremental_s'] * 1000:9.1f} ms   = "
        f"{r['incremental_s'] / r['rebuild_s']:.3f}× the rebuild"
    )
    print(
        f"   rents page, {r['small']:,} obs.       {r['page_small_s'] * 1000:9.1f} ms   "
        f"{r['page_small_queries']} queries, {r['page_small_s'] / r['hello_s']:.1f}× a bare view"
    )
    print(
        f"   rents page, {r['count']:,} obs.   {r['page_large_s'] * 1000:9.1f} ms   "
        f"{r['page_large_queries']} queries, "
        f"{r['page_large_s'] / r['hello_large_s']:.1f}× a bare view"
    )
    print(
        f"   district page                 {r['district_page_s'] * 1000:9.1f} ms   "
        f"{r['district_page_queries']} queries; SVG chart {r['chart_s'] * 1000:.1f} ms, "
        f"{r['chart_queries']} queries"
    )
    print(f"   (generating the rows took {r['generate_s']:.1f} s, inserting {r['insert_s']:.1f} s)")


def main() -> None:
    if "--worker" in sys.argv:
        print(json.dumps(worker()))
        return
    print(f"== rent index bench: {OBSERVATIONS:,} synthetic observations")
    data_dir = tempfile.mkdtemp(prefix="krov-bench-rents-")
    os.makedirs(os.path.join(data_dir, "static"))
    if "sqlite" in DATABASES:
        _report(_run(f"sqlite:///{data_dir}/bench.sqlite3", data_dir))
    if "postgresql" not in DATABASES:
        return
    if not _postgres_available():
        print("-- PostgreSQL: nothing answers on 127.0.0.1:5432; skipped")
        return
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        admin.execute(f"CREATE DATABASE {PG_DB}")
    try:
        _report(_run(f"postgres://postgres@127.0.0.1:5432/{PG_DB}", data_dir))
    finally:
        if KEEP:
            print(f"-- kept: postgres://postgres@127.0.0.1:5432/{PG_DB}")
        else:
            with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {PG_DB}")


if __name__ == "__main__":
    main()
