"""krov.core.prepared: hot statements planned once per connection on PostgreSQL, and still
seen by Django's query counting."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from krov.core import prepared

STATEMENT = "SELECT %s + 1"


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db
def test_a_statement_run_through_it_is_prepared_on_postgresql_and_reused():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for value in (1, 2, 3):
        with prepared.cursor() as cursor:
            cursor.execute(STATEMENT, [value])
            assert cursor.fetchone() == (value + 1,)
    statements = [s for s in _prepared_statements() if "$1 + 1" in s]
    assert len(statements) == 1  # prepared once, run three times


@pytest.mark.django_db
def test_djangos_own_cursors_still_prepare_nothing():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    with prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [1])
    for _ in range(10):  # past psycopg's default threshold of five
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s + 2", [1])
    assert not [s for s in _prepared_statements() if "+ 2" in s]


@pytest.mark.django_db
def test_its_statements_are_counted_like_any_other():
    with CaptureQueriesContext(connection) as queries, prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [41])
        assert cursor.fetchone()[0] == 42
    assert [q["sql"] for q in queries.captured_queries if "41 + 1" in q["sql"]]


@pytest.mark.django_db
def test_a_failing_statement_raises_djangos_error_and_the_connection_goes_on():
    from django.db import DatabaseError, transaction

    with pytest.raises(DatabaseError), transaction.atomic(), prepared.cursor() as cursor:
        cursor.execute("SELECT * FROM no_such_table_here WHERE 1 = %s", [1])
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
