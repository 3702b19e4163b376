"""On PostgreSQL, the rent index's cells of some months counted and walked by one function,
housing_rent_cells (krov.housing.index), PARALLEL SAFE, so that calls for shares of the months
run side by side under a Parallel Append. A walk written as a subquery with OFFSET … LIMIT
(or one referring to the outer row) never runs in a parallel worker: inside one statement the
walks of a full rebuild, some three million index steps, ran in one process while the count
before them ran in three. A first version (a function that walked cells counted before it)
showed the count as a phase of its own.

The count was a parallel pass of its own over the (status, month, district) index, a phase
that the walks waited for (0.6 of the bench's GROUP BY, of 2.35 for the statement). Now a
call takes months only, and each district's counted rents are read once in full, in order,
from the district's partial index: their number is the cell's count, and the neighbours of
the rent's quartile cuts are picked from them. That costs a quarter of the cell more steps and
three quarters more values gathered than the two walks did, less than the count pass: some
330-360 ms of CPU for a rebuild against 370-430 (the pass and walks of that first
version), and the calls
start at once. Per month the city's count is the sum of its districts', then the city is
walked as before; rent per m² is walked as before in both. The flagged rents are counted
from the (status, month, district) index, which holds few of them.

The function returns, for each of its months, a row for the city (count 0 if the month has
no counted or flagged rents, so that the caller sees every month it asked about) and one per
district with counted or flagged rents: month, district (NULL for the city), count, flagged,
and per figure the two neighbours of each quartile cut (x[j1], x[j1 + 1], x[j2],
x[j2 + 1], x[j3], x[j3 + 1] as double precision; NULL past the end), or NULL below
`min_cell`. A district's gathered rents are reduced to their picks in the same row, so no
array of a whole cell is kept (a CTE of them would spill to disk).

Written without '%' (the migration's SQL goes through a cursor with parameters).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION housing_rent_cells(months date[], min_cell bigint)
RETURNS TABLE (
    month date, district_id bigint, n bigint, flagged bigint,
    rent_picks double precision[], m2_picks double precision[]
)
LANGUAGE plpgsql STABLE PARALLEL SAFE COST 1000000 ROWS 500
AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH districts AS MATERIALIZED (
        SELECT u.month, d.id AS district_id, r.n, r.picks
        FROM unnest(months) AS u(month)
        CROSS JOIN housing_district d
        CROSS JOIN LATERAL (
            SELECT CAST(cardinality(a.x) AS bigint) AS n,
                CAST(ARRAY[a.x[(cardinality(a.x) - 1) / 4 + 1],
                           a.x[(cardinality(a.x) - 1) / 4 + 2],
                           a.x[(cardinality(a.x) - 1) / 2 + 1],
                           a.x[(cardinality(a.x) - 1) / 2 + 2],
                           a.x[3 * (cardinality(a.x) - 1) / 4 + 1],
                           a.x[3 * (cardinality(a.x) - 1) / 4 + 2]] AS double precision[]) AS picks
            FROM (SELECT ARRAY(
                SELECT o.rent_eur FROM housing_rentobservation o
                WHERE o.status = 'ok' AND o.month = u.month AND o.district_id = d.id
                ORDER BY o.rent_eur ASC) AS x
                OFFSET 0) a
        ) r
    ), flagged AS (
        SELECT o.month, o.district_id, count(*) AS c FROM housing_rentobservation o
        WHERE o.status = 'implausible' AND o.month = ANY(months)
        GROUP BY o.month, o.district_id
    ), cells AS MATERIALIZED (
        SELECT d.month, d.district_id, d.n, CAST(coalesce(f.c, 0) AS bigint) AS flagged, d.picks,
            (d.n - 1) / 4 AS j1, (d.n - 1) / 2 AS j2, 3 * (d.n - 1) / 4 AS j3
        FROM districts d
        LEFT JOIN flagged f ON f.month = d.month AND f.district_id = d.district_id
    ), city AS (
        SELECT g.month, g.n, g.flagged, (g.n - 1) / 4 AS j1, (g.n - 1) / 2 AS j2,
            3 * (g.n - 1) / 4 AS j3
        FROM (
            SELECT cells.month, CAST(sum(cells.n) AS bigint) AS n,
                CAST(sum(cells.flagged) AS bigint) AS flagged
            FROM cells GROUP BY cells.month
        ) g
    )
    SELECT c.month, c.district_id, c.n, c.flagged,
        CASE WHEN c.n >= min_cell THEN c.picks END,
        CASE WHEN c.n >= min_cell THEN (
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
    FROM cells c
    WHERE c.n > 0 OR c.flagged > 0
    UNION ALL
    SELECT c.month, NULL, c.n, c.flagged,
        CASE WHEN c.n >= min_cell THEN (
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
        ) END,
        CASE WHEN c.n >= min_cell THEN (
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
        ) END
    FROM city c;
END
$$;
"""

DROP = """
DROP FUNCTION IF EXISTS housing_rent_cells(date[], bigint);
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
