"""The embedded shared cache (no `REDIS_URL`): diskcache's SQLite-backed Django backend.

Why SQLite and not Django's file cache: `add` and `incr` run in one SQLite transaction, so
they are atomic across gunicorn's workers and the task worker (rate limits count exactly,
`add` has one winner), and a write costs the same however many keys there are (the file
cache lists its whole folder on every write to decide whether to cull).
"""

from __future__ import annotations

from typing import Any

from diskcache import DjangoCache


class DiskCache(DjangoCache):
    """`diskcache.DjangoCache` that keeps its SQLite connections open between requests.

    Django closes every cache when a request finishes; for this backend that means opening
    each shard's database and re-reading its settings again on the next request, which costs
    more than answering a cached page. The connections are per thread and are reopened
    after a fork by diskcache itself, so keeping them is safe.
    """

    def close(self, **kwargs: Any) -> None:
        return None
