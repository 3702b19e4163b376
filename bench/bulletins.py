"""Bulletins and the API under gunicorn on 127.0.0.1, with 20,000 posts in six languages.

At concurrency 16 and 64: requests/s and p99 of the bulletin list, a detail page, the Atom
feed and an API list page, each as a ratio against a bare Django view in the same run;
query counts with 100 and with 20,000 posts (they must be equal).
Run with `make bench` or `python -m bench.bulletins`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.public_pages import fetch, load
from bench.telegram_intake import django_shell, environment, free_port, wait_for

POSTS = int(os.environ.get("BENCH_POSTS", "20000"))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))

SEED = """
from krov.accounts import services as accounts
from krov.bulletins import services
a = accounts.create_account(email="a@bench.local", pseudonym="A", password=None, roles=["editor"])
b = accounts.create_account(email="b@bench.local", pseudonym="B", password=None, roles=["editor"])
post = services.create_post(actor=a, language="sr-latn", title="Istina o ratu",
    summary="Kratko", body="Dijaspora **piše** istinu.", tags=["rat"])
services.write(post, actor=a, language="ru", title="Правда о войне", body="Текст")
services.submit(post, actor=a)
services.approve(post, actor=b)
print(post.slug)
"""

BULK = """
from datetime import timedelta
from django.utils import timezone
from krov.accounts.models import User
from krov.bulletins.models import Post, PostVersion
author = User.objects.get(email="a@bench.local")
now = timezone.now()
posts = [Post(slug=f"{prefix}-{{i}}", original_language="ru", author=author, status="published",
              published_at=now - timedelta(minutes=i + 1)) for i in range({count})]
Post.objects.bulk_create(posts, batch_size=2000)
ids = list(Post.objects.filter(slug__startswith="{prefix}-").values_list("pk", flat=True))
languages = ["ru", "uk", "sr", "sr-latn", "en", "de"]
PostVersion.objects.bulk_create(
    [PostVersion(post_id=pk, language=lang, title=f"Post {{pk}} {{lang}}", summary="S",
                 body="Body text", search_text="post body text") for pk in ids for lang in languages],
    batch_size=5000)
print(Post.objects.count())
"""

QUERIES = """
import json
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
counts = {{}}
for name, url in [("list", "/en/bulletins/"), ("detail", "/en/bulletins/{slug}/"),
                  ("feed", "/en/bulletins/feed/"), ("api", "/api/v1/bulletins?lang=en")]:
    cache.clear()
    with CaptureQueriesContext(connection) as captured:
        status = Client(SERVER_NAME="127.0.0.1").get(url).status_code
    counts[name] = [status, len(captured)]
print(json.dumps(counts))
"""


def main() -> None:
    data_dir = tempfile.mkdtemp(prefix="krov-bench-bulletins-")
    os.makedirs(os.path.join(data_dir, "static"))
    env = environment(data_dir)
    env["KROV_API_PER_MINUTE"] = "10000000"
    krov = str(Path(sys.executable).with_name("krov"))
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    subprocess.run([krov, "migrate", "--verbosity", "0"], env=env, check=True)  # noqa: S603
    subprocess.run(  # noqa: S603
        [krov, "collectstatic", "--noinput", "--verbosity", "0"], env=env, check=True
    )
    slug = django_shell(env, SEED).splitlines()[-1]
    django_shell(env, BULK.format(count=99, prefix="small"))
    small = json.loads(django_shell(env, QUERIES.format(slug=slug)))
    total = int(django_shell(env, BULK.format(count=POSTS - 100, prefix="big")))
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
    pages = [
        ("bare view (baseline)", "/bench/hello"),
        ("bulletin list", "/en/bulletins/"),
        ("bulletin detail", f"/sr/bulletins/{slug}/"),
        ("Atom feed", "/sr-latn/bulletins/feed/"),
        ("API list", "/api/v1/bulletins?lang=en"),
    ]
    try:
        wait_for(port)
        for _name, path in pages:
            fetch(port, path)  # warm caches, as visitors would
        print(
            f"{total} posts × 6 languages in SQLite; gunicorn 4 workers; {REQUESTS} requests/line"
        )
        for concurrency in (16, 64):
            print(f"\nconcurrency {concurrency}")
            print(f"{'page':<24} {'req/s':>8} {'× bare':>8} {'p99 ms':>8}  statuses")
            base = None
            for name, path in pages:
                rate, p99, statuses = load(port, path, concurrency, REQUESTS)
                base = base or rate
                print(f"{name:<24} {rate:>8.0f} {rate / base:>8.2f} {p99:>8.1f}  {statuses}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\nqueries     100 posts  {total} posts")
    for name in small:
        print(f"{name:<10} {small[name][1]:>10}  {large[name][1]:>10}   (status {large[name][0]})")
    ok = small == large and all(v[0] == 200 for v in large.values())
    print("CHECK:", "ok" if ok else "FAILED")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
