"""Page benchmarks, in-process through the full middleware stack.

Each page's cost is printed as a ratio against a bare "hello" view measured in the same run
(the machine is shared and noisy; absolute times are not comparable between runs), with
the number of SQL queries the page makes. Run with `make bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from cryptography.fernet import Fernet

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))


def setup(database_url: str = "") -> None:
    """Krov with production settings in a fresh data directory, migrated: on a fresh SQLite
    file there, or on `database_url` (a database the bench may fill). Never on the database
    the environment configures (DATABASE_URL, DATABASE_URL_FILE)."""
    data_dir = tempfile.mkdtemp(prefix="krov-bench-")
    os.makedirs(os.path.join(data_dir, "static"))
    os.environ.update(
        KROV_DEBUG="0",
        KROV_SECRET_KEY="bench-" + "x" * 60,
        KROV_FIELD_KEYS=Fernet.generate_key().decode(),
        KROV_ALLOWED_HOSTS="testserver",
        KROV_SSL_REDIRECT="0",
        KROV_DATA_DIR=data_dir,
        DJANGO_SETTINGS_MODULE="krov.settings",
    )
    os.environ.pop("DATABASE_URL_FILE", None)
    os.environ.pop("DATABASE_URL", None)
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    import django
    from django.conf import settings

    django.setup()
    settings.ROOT_URLCONF = "bench.urls"
    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def measure(client, path: str) -> tuple[float, int, int]:
    from django.db import connection

    response = client.get(path)
    status = response.status_code
    queries: list[str] = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(ROUNDS // 5):
            client.get(path)
        samples.append((time.perf_counter() - start) / (ROUNDS // 5))
    return statistics.median(samples), len(queries), status


def main() -> None:
    setup()
    from django.test import Client

    from krov.accounts import services

    member = services.create_account(
        email="bench@example.org",
        pseudonym="Bench",
        password="bench pass 12345",
        email_verified=True,
    )
    anonymous = Client()
    signed_in = Client()
    signed_in.force_login(member, backend="django.contrib.auth.backends.ModelBackend")

    cases = [
        ("bare hello (baseline)", anonymous, "/bench/hello"),
        ("home /en/", anonymous, "/en/"),
        ("home /sr-latn/", anonymous, "/sr-latn/"),
        ("login page", anonymous, "/en/accounts/login/"),
        ("healthz", anonymous, "/healthz"),
        ("dashboard (member)", signed_in, "/en/dashboard/"),
    ]
    baseline = None
    print(f"{'page':<24} {'status':>6} {'queries':>7} {'ms/req':>8} {'× baseline':>10}")
    for name, client, path in cases:
        seconds, queries, status = measure(client, path)
        baseline = baseline or seconds
        print(
            f"{name:<24} {status:>6} {queries:>7} {seconds * 1000:>8.2f} {seconds / baseline:>10.1f}"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
