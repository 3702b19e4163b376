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


@pytest.mark.django_db(transaction=True)
def test_a_column_changed_under_a_prepared_statement_fails_one_run_not_every_run():
    """A migration applied while web processes run may change a column a prepared statement
    returns: PostgreSQL refuses the cached plan ("must not change result type")."""
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    import psycopg
    from django.db import DatabaseError

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE prepared_probe (word varchar(8))")
        cursor.execute("INSERT INTO prepared_probe VALUES ('slovo')")
    try:
        sql = "SELECT word FROM prepared_probe WHERE word = %s"
        for _ in range(2):
            with prepared.cursor() as cursor:
                cursor.execute(sql, ["slovo"])
                assert cursor.fetchone() == ("slovo",)
        settings = connection.settings_dict
        with psycopg.connect(
            dbname=settings["NAME"],
            host=settings["HOST"],
            port=settings["PORT"] or None,
            user=settings["USER"],
            autocommit=True,
        ) as other:  # another process's migration
            other.execute("ALTER TABLE prepared_probe ALTER COLUMN word TYPE varchar(64)")
        with pytest.raises(DatabaseError), prepared.cursor() as cursor:
            cursor.execute(sql, ["slovo"])
        with prepared.cursor() as cursor:  # the next run plans afresh
            cursor.execute(sql, ["slovo"])
            assert cursor.fetchone() == ("slovo",)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE prepared_probe")
