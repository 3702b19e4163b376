"""On PostgreSQL, the rent index's walks as a PARALLEL SAFE function (krov.housing.index).

A walk is a subquery with OFFSET … LIMIT run once per cell, and PostgreSQL never runs such a
subquery (nor one that refers to the outer row) in a parallel worker: inside a statement the
walks of a full rebuild, some three million index steps, ran in one process while the count
before them ran in three. Inside a function they are the function's own statement, and calls
to a function marked PARALLEL SAFE, one per share of the cells, can run side by side under a
Parallel Append.

The function takes the cells as arrays (month, district or NULL for the city, count of
counted rents) and walks those of its share (every `parts`-th, from `part`) that have at
least `min_cell` rents; the caller orders them by size, so the shares come out even. For each it returns the cell's position in the
arrays and, per figure, the two neighbours of each quartile cut in ascending order of the
cuts (krov.housing.index.cuts): x[j1], x[j1 + 1], x[j2], x[j2 + 1], x[j3], x[j3 + 1] of the
cell's n values x[0] ≤ … ≤ x[n - 1], as double precision (numeric's text read by strtod,
so the same float as Python's float(Decimal)). A neighbour past the end (n = 1) is NULL.

Each figure is walked twice in its partial index of the counted rents (migration 0006), as
the statement did: from the low end, skipping to x[j1] and gathering up to x[j2 + 1]; from
the top, skipping to x[j3 + 1] and taking it and x[j3] (3n/4 steps, n/4 values gathered).
The picks are made in the row, so no gathered array outlives its cell; OFFSET 0 keeps the
two walks from being inlined into (and run again for) each pick.

The condition `status = 'ok'` is written as the partial indexes have it. COST tells the
planner that a call is expensive: at a function's default cost it would start no workers.
Written without '%' (the migration's SQL goes through a cursor with parameters).
"""

from django.db import migrations

# Written out, as the migration must keep the SQL it made: rent_eur walked in the city's index
# (district NULL) or the district's, then per_m2 in the same two.
CREATE = """
CREATE OR REPLACE FUNCTION housing_rent_walks(
    months date[], districts bigint[], counts bigint[], min_cell bigint, part integer,
    parts integer
) RETURNS TABLE (k bigint, rent_picks double precision[], m2_picks double precision[])
LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1000000 ROWS 500
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT c.k,
        CASE WHEN c.district_id IS NULL THEN (
            SELECT CAST(ARRAY[w.low[1], w.low[2], w.low[c.j2 - c.j1 + 1],
                              w.low[c.j2 - c.j1 + 2], w.high[2], w.high[1]] AS double precision[])
            FROM (SELECT
                ARRAY(SELECT o.rent_eur FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month
                      ORDER BY o.rent_eur ASC LIMIT c.j2 - c.j1 + 2 OFFSET c.j1) AS low,
                ARRAY(SELECT o.rent_eur FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month
                      ORDER BY o.rent_eur DESC LIMIT 2 OFFSET GREATEST(c.n - 2 - c.j3, 0)) AS high
                OFFSET 0) w
        ) ELSE (
            SELECT CAST(ARRAY[w.low[1], w.low[2], w.low[c.j2 - c.j1 + 1],
                              w.low[c.j2 - c.j1 + 2], w.high[2], w.high[1]] AS double precision[])
            FROM (SELECT
                ARRAY(SELECT o.rent_eur FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month AND o.district_id = c.district_id
                      ORDER BY o.rent_eur ASC LIMIT c.j2 - c.j1 + 2 OFFSET c.j1) AS low,
                ARRAY(SELECT o.rent_eur FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month AND o.district_id = c.district_id
                      ORDER BY o.rent_eur DESC LIMIT 2 OFFSET GREATEST(c.n - 2 - c.j3, 0)) AS high
                OFFSET 0) w
        ) END,
        CASE WHEN c.district_id IS NULL THEN (
            SELECT CAST(ARRAY[w.low[1], w.low[2], w.low[c.j2 - c.j1 + 1],
                              w.low[c.j2 - c.j1 + 2], w.high[2], w.high[1]] AS double precision[])
            FROM (SELECT
                ARRAY(SELECT o.per_m2 FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month
                      ORDER BY o.per_m2 ASC LIMIT c.j2 - c.j1 + 2 OFFSET c.j1) AS low,
                ARRAY(SELECT o.per_m2 FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month
                      ORDER BY o.per_m2 DESC LIMIT 2 OFFSET GREATEST(c.n - 2 - c.j3, 0)) AS high
                OFFSET 0) w
        ) ELSE (
            SELECT CAST(ARRAY[w.low[1], w.low[2], w.low[c.j2 - c.j1 + 1],
                              w.low[c.j2 - c.j1 + 2], w.high[2], w.high[1]] AS double precision[])
            FROM (SELECT
                ARRAY(SELECT o.per_m2 FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month AND o.district_id = c.district_id
                      ORDER BY o.per_m2 ASC LIMIT c.j2 - c.j1 + 2 OFFSET c.j1) AS low,
                ARRAY(SELECT o.per_m2 FROM housing_rentobservation o
                      WHERE o.status = 'ok' AND o.month = c.month AND o.district_id = c.district_id
                      ORDER BY o.per_m2 DESC LIMIT 2 OFFSET GREATEST(c.n - 2 - c.j3, 0)) AS high
                OFFSET 0) w
        ) END
    FROM (
        SELECT u.k, u.month, u.district_id, u.n,
            (u.n - 1) / 4 AS j1, (u.n - 1) / 2 AS j2, 3 * (u.n - 1) / 4 AS j3
        FROM unnest(months, districts, counts) WITH ORDINALITY AS u(month, district_id, n, k)
        WHERE mod(u.k, parts) = part AND u.n >= min_cell
    ) c;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS housing_rent_walks(date[], bigint[], bigint[], bigint, integer, integer);
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("housing", "0006_observation_partial_rank_indexes")]

    operations = [migrations.RunPython(create_function, drop_function)]
