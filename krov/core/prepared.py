"""Prepared statements for a hot path's fixed SQL on PostgreSQL.

Django binds parameters on the client and prepares nothing (its psycopg connection has
`prepare_threshold` None, so that transaction-pooling proxies work), so PostgreSQL plans
every statement on every run. A statement with several subqueries (the ranking of
volunteers, krov.aid.matching) spends as long being planned as being run.

`cursor()` gives, on PostgreSQL, a cursor that binds on the server and prepares each
statement on its first run on the connection: later runs reuse the plan (PostgreSQL keeps
custom plans for the first five runs, then a generic one when it costs no more). It is
Django's own cursor class for `server_side_binding`, wrapped as Django wraps every cursor,
so query counting, logging and execute wrappers see it. Only statements written for it use
it: server-side binding is stricter than Django's client side (a parameter's type must be
clear from where it stands), and each prepared statement costs memory on the server for as
long as the connection lives (psycopg keeps at most 100 per connection, least recently
used first). Krov connects directly (no pooling proxy, docs/operations.md); behind a
transaction-pooling PgBouncer older than 1.21 prepared statements break. On SQLite it is
the ordinary cursor (SQLite caches its compiled statements per connection already).
"""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.utils import CursorWrapper


def cursor(alias: str = DEFAULT_DB_ALIAS) -> CursorWrapper:
    """A cursor of `alias` that prepares what it runs (PostgreSQL); use it as a context
    manager, like `connection.cursor()`."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return connection.cursor()
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    database = connection.connection
    if database.prepare_threshold is None:
        # psycopg prepares nothing while the threshold is None, even when asked to. Only
        # server-bound cursors (this module's) can prepare; Django's own bind on the
        # client and never do. No count reaches it: only `prepare=True` prepares.
        database.prepare_threshold = _NEVER_BY_COUNT
    with connection.wrap_database_errors:
        raw = _preparing_class()(database)
    raw.ops = connection.ops
    # Wrapped as Django wraps its own (BaseDatabaseWrapper._prepare_cursor).
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(raw)
    return connection.make_cursor(raw)


_NEVER_BY_COUNT = 2**31 - 1


def _forget_prepared(database) -> None:
    """After "cached plan must not change result type" (a migration changed a column that a
    prepared statement returns, while this process ran): drop the connection's prepared
    statements, so that only the run that met it fails, not every run until the connection
    is recycled. Outside a transaction it is done at once (psycopg forgets its own list on
    seeing DEALLOCATE ALL); inside one, the rollback that follows does it."""
    from psycopg.pq import TransactionStatus

    if database.info.transaction_status == TransactionStatus.IDLE:
        database.execute("DEALLOCATE ALL")


class _Shown:
    """The text Django's query log (DEBUG, tests' query counting) shows of a prepared run:
    the statement with its parameters quoted, composed only when asked for."""

    def __init__(self, ops, query, params) -> None:
        self._ops, self._text, self._params = ops, query, params

    @property
    def query(self) -> bytes:
        return self._ops.compose_sql(self._text, self._params).encode()


_class = None


def _preparing_class():
    global _class  # noqa: PLW0603 - made once, on first use (psycopg is imported by then)
    if _class is None:
        from django.db.backends.postgresql.base import ServerBindingCursor
        from psycopg.errors import FeatureNotSupported

        class PreparingCursor(ServerBindingCursor):
            ops = None

            def execute(self, query, params=None, *, prepare=None, binary=None):
                try:
                    super().execute(
                        query, params, prepare=True if prepare is None else prepare, binary=binary
                    )
                except FeatureNotSupported:
                    _forget_prepared(self.connection)
                    raise
                # psycopg keeps no text of a prepared run; Django's query log reads one.
                self._query = _Shown(self.ops, query, params)
                return self

        _class = PreparingCursor
    return _class
