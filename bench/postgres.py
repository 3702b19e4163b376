"""A PostgreSQL database a bench may fill: named by a postgres:// URL, dropped and made
again before the run and dropped after it, so only a database whose name starts with
"krov_bench" is accepted."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def parse(url: str, variable: str = "BENCH_DATABASE_URL") -> tuple[str, str]:
    """The database name in a postgres:// URL, and the URL of the server's `postgres`
    database (from which it is dropped and created)."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(f"{variable}: a postgres:// URL, not {parts.scheme}://")
    name = parts.path.lstrip("/")
    # The database is dropped: never one that is not the bench's own.
    if not name.startswith("krov_bench"):
        raise SystemExit(
            f"{variable}: the database is dropped; {name!r} must start with 'krov_bench'"
        )
    return name, urlunsplit(parts._replace(path="/postgres"))


def recreate(admin_url: str, name: str, *, create: bool) -> None:
    """Drop the database `name`, and make it again empty when `create`."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        if create:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
