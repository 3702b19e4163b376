"""The rent index: per district and month (and for the whole city) the median rent, the
median rent per m², their interquartile ranges and the count; the fair-rent check.

Only observations with status "ok" count. A cell with fewer than KROV_RENT_MIN_CELL of them
stores no figures at all, so no page or API answer can show one. Quartiles are Python's
`statistics.quantiles(method="inclusive")`, the median is its middle cut.

The database does the ordering and Python only the arithmetic: for each quartile the two
neighbours it interpolates reach Python, which interpolates them with the statistics
module's own float operations (so the figures are those of `statistics`, to the cent). A
partial index of the counted rents per district and month (and one per month for the city)
holds each figure's values in order, and the neighbours are found by walking it
(`OFFSET k LIMIT 2`): some n rows in all per cell and figure on SQLite, 3n/4 on PostgreSQL
(n for a district's rent, read whole as it counts the cell), no sort. SQLite does one
statement per cell; PostgreSQL the counts and every walk in one statement (one snapshot, one
round trip), a rebuild's months shared between parallel workers (the function
housing_rent_cells, migration 0007)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.db.models import Count, FloatField, Max, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.core import pagecache
from krov.housing.models import District, Listing, RentIndexCell, RentObservation
from krov.housing.parsing import add_months, month_of

CENT = Decimal("0.01")
OK = RentObservation.Status.OK
IMPLAUSIBLE = RentObservation.Status.IMPLAUSIBLE
FIGURES = ("rent_eur", "per_m2")


def cuts(n: int) -> list[int]:
    """For each quartile of `n` sorted values, the 0-based rank of the lower of the two
    neighbours it interpolates (the only value when n is 1)."""
    return [0, 0, 0] if n == 1 else [i * (n - 1) // 4 for i in (1, 2, 3)]


def quartiles(n: int, at: dict[int, float]) -> tuple[Decimal, Decimal, Decimal]:
    """Q1, median and Q3 of `n` values, given `at`: rank → value for the ranks `cuts(n)` and
    the ones after them (0-based, ascending). `statistics.quantiles(values, n=4,
    method="inclusive")` step by step, the same float operations in the same order, then
    rounded to cents as before."""
    if n == 1:
        values = [at[0]] * 3
    else:
        values = []
        for i in (1, 2, 3):
            j, delta = divmod(i * (n - 1), 4)
            values.append((at[j] * (4 - delta) + at[j + 1] * delta) / 4)
    return tuple(Decimal(repr(v)).quantize(CENT) for v in values)  # type: ignore[return-value]


@dataclass
class _Group:
    """One cell's counts, and per figure the values at the ranks its quartiles read."""

    count: int = 0
    flagged: int = 0
    at: dict[str, dict[int, float]] = field(default_factory=lambda: {f: {} for f in FIGURES})


Key = tuple[date, int | None]  # (month, district id), None for the city


def _walk(n: int, j: int) -> tuple[int, bool]:
    """How to reach the neighbours x[j], x[j+1] of `n` sorted values from the nearer end:
    (values to skip, whether from the top). From the top they are the (n-2-j)th and next."""
    from_top = max(n - 2 - j, 0)
    return (from_top, True) if from_top < j else (j, False)


def _put(group: _Group, figure: str, j: int, values: Iterable[float]) -> None:
    # The two neighbours in ascending order, whichever end the walk started from.
    for rank, value in enumerate(sorted(values), start=j):
        group.at[figure][rank] = value


# The condition of the partial indexes (the model's Meta), written as they are, so that the
# planner (SQLite's in particular) can tell that a walk may use them: a parameter would not do.
_OK_ROWS = f"status = '{OK.value}'"

# --- SQLite: one statement per cell, a walk per cut and figure --------------------------


def _walks_sql(walks: tuple[tuple[str, bool], ...], *, city: bool) -> str:
    """One statement for all the walks of a cell, (figure, from the top) each: row k of the
    answer is (k, a value) for the k-th walk."""
    table = connection.ops.quote_name(RentObservation._meta.db_table)
    real = FloatField().db_type(connection)
    district = "" if city else " AND district_id = ?"
    # Identifiers and the status from this module only (FIGURES, the model's table, OK);
    # values are parameters.
    return " UNION ALL ".join(
        f"SELECT {k}, x FROM (SELECT CAST({figure} AS {real}) AS x FROM {table} "  # noqa: S608
        f"WHERE {_OK_ROWS} AND month = ?{district} "
        f"ORDER BY {figure} {'DESC' if down else 'ASC'} LIMIT 2 OFFSET ?)"
        for k, (figure, down) in enumerate(walks)
    )


def _groups_sqlite(months: list[date] | None) -> tuple[dict[Key, _Group], set[date]]:
    """Counts in one pass over the (status, month, district) index, then each quartile's two
    neighbours by walking the district's (or the city's) partial index from its nearer end: SQLite
    steps through an index in some 40 ns a row, much less than sorting or windowing costs.
    One statement per cell, on the raw connection: its few shapes are parsed once (SQLite's
    statement cache). The caller's transaction gives the counts and the walks one snapshot."""
    groups, seen = _counts(months)
    statements: dict[tuple[tuple[tuple[str, bool], ...], bool], str] = {}
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        for (month, district_id), group in groups.items():
            n = group.count
            if n < max(settings.KROV_RENT_MIN_CELL, 1):
                continue
            where: tuple = (str(connection.ops.adapt_datefield_value(month)),)
            if district_id is not None:
                where += (district_id,)
            ranks: list[tuple[str, int]] = []
            walks: list[tuple[str, bool]] = []
            params: list[Any] = []
            for j in sorted(set(cuts(n))):
                offset, down = _walk(n, j)
                for figure in FIGURES:
                    ranks.append((figure, j))
                    walks.append((figure, down))
                    params.extend((*where, offset))
            key = (tuple(walks), district_id is None)
            sql = statements.get(key)
            if sql is None:
                sql = statements[key] = _walks_sql(key[0], city=key[1])
            values: list[list[float]] = [[] for _ in walks]
            for k, value in cursor.execute(sql, params):
                values[k].append(value)
            for (figure, j), pair in zip(ranks, values, strict=True):
                _put(group, figure, j, pair)
    finally:
        cursor.close()
    return groups, seen


def _counts(months: list[date] | None) -> tuple[dict[Key, _Group], set[date]]:
    """Per (month, district), and per (month, None) for the city: counted and flagged rents;
    and the months that have observations of any status."""
    rows = RentObservation.objects.all()
    if months is not None:
        rows = rows.filter(month__in=months)
    groups: dict[Key, _Group] = defaultdict(_Group)
    seen: set[date] = set()
    for status, month, district_id, n in (
        rows.values("status", "month", "district_id")
        .annotate(n=Count("*"))
        .values_list("status", "month", "district_id", "n")
        .order_by()
    ):
        seen.add(month)
        if status not in (OK, IMPLAUSIBLE):
            continue
        for key in ((month, district_id), (month, None)):
            if status == OK:
                groups[key].count += n
            else:
                groups[key].flagged += n
    return groups, seen


# --- PostgreSQL: one statement, in parallel ----------------------------------------------
#
# A round trip costs some 50 µs and a step through an index some 100 ns, so the counts and
# every walk are one statement: one snapshot, one round trip. The work is the function
# housing_rent_cells (migration 0007), which counts and walks the cells of the months it is
# given: each district's counted rents read once in order from its partial index (their
# number is the count, the rent's six neighbours are picked from them), rent per m² walked
# twice (from the low end, skipping to Q1's lower neighbour and gathering up to the median's
# upper one; from the top to Q3's upper neighbour: 3n/4 steps), the city's count summed from
# its districts', then its two figures walked twice each. Sorting each group (array_agg ...
# ORDER BY, percentile_disc) or numbering its rows (row_number() OVER) costs more; so do three
# walks from the nearer ends (n steps), and so did a count in a parallel pass of its own
# before the walks (0007).
#
# Why a function: PostgreSQL runs no subquery with LIMIT, nor one that refers to the outer row,
# in a parallel worker, but it does run calls to a PARALLEL SAFE function. The months are dealt
# round-robin into _PARTS shares, one call each, and a Parallel Append gives the calls to the
# leader and its workers (two by default: max_parallel_workers_per_gather); if no worker is
# free, the leader makes every call. A rebuild's months are found first by skipping through the
# (month, status) index, one step per month; each call's months are computed before the
# workers start (initplans). Starting workers costs a few milliseconds each (more on
# a busy server): measured on the bench's data, shares paid off from some two years of months
# (12 months: 80 ms in one process, 109 ms shared; 24: 214 against 188; 36: 336 against 260),
# so the incremental path's few months are one call, in one process.

_PARTS = 3
_PARALLEL_MONTHS = 24  # fewer months than this are counted and walked in one process
_PG_ALL_MONTHS = """WITH RECURSIVE months AS (
    SELECT MIN(month) AS month FROM {table}
    UNION ALL
    SELECT (SELECT MIN(month) FROM {table} WHERE month > months.month) FROM months
    WHERE months.month IS NOT NULL
), shares AS MATERIALIZED (
    SELECT month, row_number() OVER (ORDER BY month) AS i FROM months WHERE month IS NOT NULL
)
"""
_PG_GIVEN_MONTHS = """WITH shares AS MATERIALIZED (
    SELECT month, i FROM unnest(CAST(%(months)s AS date[])) WITH ORDINALITY AS m(month, i)
)
"""
_PG_CALL = (
    "SELECT * FROM housing_rent_cells("
    "(SELECT array_agg(month) FROM shares WHERE mod(i, {parts}) = {part}), %(min_cell)s)"
)


def _pg_sql(months: list[date] | None, parts: int) -> str:
    table = connection.ops.quote_name(RentObservation._meta.db_table)
    head = _PG_ALL_MONTHS.format(table=table) if months is None else _PG_GIVEN_MONTHS
    # Identifiers from this module only (the model's table); values are parameters.
    return head + " UNION ALL ".join(
        _PG_CALL.format(part=part, parts=parts) for part in range(parts)
    )


def _groups_postgresql(months: list[date] | None) -> tuple[dict[Key, _Group], set[date]]:
    groups: dict[Key, _Group] = {}
    seen: set[date] = set()
    params: dict[str, Any] = {"min_cell": max(settings.KROV_RENT_MIN_CELL, 1), "months": months}
    with connection.cursor() as cursor:
        # The walks' estimated cost would have PostgreSQL compile them (JIT), which takes
        # longer than running them. For this transaction only; the workers inherit it.
        cursor.execute("SET LOCAL jit = off")
        parts = _PARTS if months is None or len(months) >= _PARALLEL_MONTHS else 1
        cursor.execute(_pg_sql(months, parts), params)
        for month, district_id, n, flagged, *picks in cursor.fetchall():
            # Every month asked about has its city row; one of excluded rents only counts
            # as seen, and has no cell.
            seen.add(month)
            if not n and not flagged:
                continue
            group = groups[(month, district_id)] = _Group(count=n, flagged=flagged)
            ranks = [j + k for j in cuts(n) for k in (0, 1)]
            for figure, values in zip(FIGURES, picks, strict=True):
                if values is None:
                    continue  # too few rents to walk
                for rank, value in zip(ranks, values, strict=True):
                    if value is not None and rank < n:
                        group.at[figure][rank] = value  # a float (double precision)
    return groups, seen


# The stored cell's fields (every one but the key), in the order of the rows `_compute` makes.
_CELL_FIELDS = (
    "area",
    "district_id",
    "month",
    "count",
    "flagged",
    "suppressed",
    "computed_at",
    "q1_rent",
    "median_rent",
    "q3_rent",
    "q1_m2",
    "median_m2",
    "q3_m2",
)
_NO_FIGURES = (None,) * 6


def _compute(months: list[date] | None) -> tuple[list[tuple], set[date]]:
    """The cells of these months (of all when None), as rows of `_CELL_FIELDS`' values, and
    the months that have observations. Rows, not model instances: making 1,300 instances
    took longer than computing their figures."""
    slugs = dict(District.objects.values_list("id", "slug"))
    now = timezone.now()
    min_cell = settings.KROV_RENT_MIN_CELL
    rows = []
    with transaction.atomic():  # one snapshot for the counts and the walks (SQLite's WAL)
        if connection.vendor == "postgresql":
            groups, seen = _groups_postgresql(months)
        else:
            groups, seen = _groups_sqlite(months)
    for (month, district_id), group in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)
    ):
        n = group.count
        # Both figures or none: half a cell cannot happen in one snapshot, never show one.
        suppressed = n < min_cell or not (group.at["rent_eur"] and group.at["per_m2"])
        figures = (
            _NO_FIGURES
            if suppressed
            else quartiles(n, group.at["rent_eur"]) + quartiles(n, group.at["per_m2"])
        )
        area = RentIndexCell.CITY if district_id is None else slugs[district_id]
        rows.append((area, district_id, month, n, group.flagged, suppressed, now, *figures))
    return rows, seen


def _adapted(values: list[Any], f: models.Field) -> list[Any]:
    """One field's values, adapted for the database as `bulk_create` would: the few distinct
    dates and times once each; the rest already are what the column holds."""
    ops = connection.ops
    adapt: Callable[[Any], Any]
    if isinstance(f, models.DateTimeField):
        adapt = ops.adapt_datetimefield_value
    elif isinstance(f, models.DateField):
        adapt = ops.adapt_datefield_value
    elif isinstance(f, models.DecimalField):
        return [
            None if v is None else ops.adapt_decimalfield_value(v, f.max_digits, f.decimal_places)
            for v in values
        ]
    else:
        return values
    adapted = {v: adapt(v) for v in set(values)}
    return [adapted[v] for v in values]


def _insert(rows: list[tuple]) -> None:
    """`bulk_create` without model instances nor its preparation of every value through the
    field: on PostgreSQL one COPY, whose values psycopg writes from their Python types
    (dates, aware datetimes, Decimals) in C; elsewhere one statement executed per row.
    (An INSERT from one array per column took some 30 ms more for the 1,300 cells of six
    years: psycopg writes arrays' elements in Python.) The COPY goes to the driver's cursor,
    past Django's execute wrappers, like the bench's."""
    by_name = {f.attname: f for f in RentIndexCell._meta.concrete_fields}
    fields = [by_name[name] for name in _CELL_FIELDS]
    quote = connection.ops.quote_name
    table = quote(RentIndexCell._meta.db_table)
    names = ", ".join(quote(str(f.column)) for f in fields)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with (
            connection.connection.cursor() as cursor,
            # The model's names only; values are the COPY's data.
            cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    columns = [_adapted([row[i] for row in rows], f) for i, f in enumerate(fields)]
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608
            list(zip(*columns, strict=True)),
        )


# PostgreSQL advisory lock key for replacing cells ("krov rent" in ASCII).
_WRITER_LOCK = 0x6B726F7672656E74


def _one_writer_at_a_time() -> None:
    """Two workers replacing the same months at once would each delete the old cells, then
    both insert (the second's delete does not see the first's uncommitted rows): a unique
    violation. On PostgreSQL the second waits here until the first commits; SQLite takes
    its write lock at BEGIN IMMEDIATE already."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITER_LOCK])


def recompute(months: Iterable[date]) -> int:
    """Recompute the cells of these months (all districts and the city). Returns the number
    of months done. The reads do not grow with the observations' size beyond the index walks;
    the cells are replaced in one transaction."""
    months = sorted({month_of(m) for m in months})
    if not months:
        return 0
    rows, _seen = _compute(months)
    with transaction.atomic():
        _one_writer_at_a_time()
        RentIndexCell.objects.filter(month__in=months).delete()
        _insert(rows)
    pagecache.invalidate("housing")
    return len(months)


def reflag() -> int:
    """Apply the current plausibility bounds (KROV_RENT_PER_M2_MIN/MAX) to every observation
    not excluded by moderators. Returns how many changed status. Only the rows that change
    are read (index on status and rent per m²): two statements, one per status, as one
    condition with OR had PostgreSQL read every flagged row from the table (the (status,
    month, district) index found them, the bounds had to be checked in the table: some
    3,000 pages for the bench's 4,000 flagged rents, 15-80 ms of each rebuild)."""
    low, high = settings.KROV_RENT_PER_M2_MIN, settings.KROV_RENT_PER_M2_MAX
    rents = RentObservation.objects.all()
    with transaction.atomic():
        flagged = rents.filter(Q(status=OK, per_m2__lt=low) | Q(status=OK, per_m2__gt=high))
        cleared = rents.filter(status=IMPLAUSIBLE, per_m2__gte=low, per_m2__lte=high)
        # Disjoint: a row the first flags is outside the bounds, so the second leaves it.
        return flagged.update(status=IMPLAUSIBLE) + cleared.update(status=OK)


def rebuild() -> int:
    """Re-apply the plausibility bounds, then recompute every month: the cells of months
    without observations go. Returns the number of months with observations."""
    reflag()
    rows, months = _compute(None)
    with transaction.atomic():
        _one_writer_at_a_time()
        RentIndexCell.objects.all().delete()
        _insert(rows)
    pagecache.invalidate("housing")
    return len(months)


def schedule(months: Iterable[date]) -> None:
    """Recompute these months after the current transaction commits (in the worker)."""
    wanted = sorted({month_of(m).isoformat() for m in months})
    if not wanted:
        return
    from krov.housing import tasks

    transaction.on_commit(lambda: tasks.recompute_index(wanted))


# --- reading ---------------------------------------------------------------------------


def latest_month() -> date | None:
    return RentIndexCell.objects.filter(area=RentIndexCell.CITY, suppressed=False).aggregate(
        m=Max("month")
    )["m"]


def base_month() -> date:
    from krov.housing.parsing import parse_month

    return parse_month(settings.KROV_RENT_BASE_MONTH)


def ratio(now: RentIndexCell | None, then: RentIndexCell | None) -> Decimal | None:
    """Median rent now ÷ then, to one decimal; None when either cell has no figure."""
    if now is None or then is None or now.median_rent is None or then.median_rent is None:
        return None
    if not then.median_rent:
        return None
    return (now.median_rent / then.median_rent).quantize(Decimal("0.1"))


@dataclass
class Row:
    area: str
    name: str
    latest: RentIndexCell | None
    year_ago: RentIndexCell | None
    base: RentIndexCell | None

    @property
    def change_year(self) -> Decimal | None:
        return ratio(self.latest, self.year_ago)

    @property
    def change_base(self) -> Decimal | None:
        return ratio(self.latest, self.base)


def overview(month: date, base: date) -> list[Row]:
    """The city and every district at `month`, against 12 months before and `base`.
    Two queries whatever the number of observations."""
    year_ago = add_months(month, -12)
    cells = {
        (c.area, c.month): c
        for c in RentIndexCell.objects.filter(month__in={month, year_ago, base})
    }
    areas = [(RentIndexCell.CITY, _("Whole city"))] + [
        (d.slug, d.name()) for d in District.objects.filter(active=True)
    ]
    return [
        Row(
            area,
            name,
            cells.get((area, month)),
            cells.get((area, year_ago)),
            cells.get((area, base)),
        )
        for area, name in areas
    ]


def series(area: str) -> list[RentIndexCell]:
    return list(RentIndexCell.objects.filter(area=area).order_by("month"))


# --- fair-rent check ---------------------------------------------------------------------


@dataclass
class Verdict:
    district: District
    rent_eur: Decimal
    count: int
    percentile: int | None = None
    median: Decimal | None = None

    @property
    def enough(self) -> bool:
        return self.percentile is not None

    @property
    def label(self) -> str:
        if self.percentile is None:
            return _("Too few data to judge")
        if self.percentile >= 90:
            return _("Much higher than usual")
        if self.percentile >= 75:
            return _("Higher than most")
        if self.percentile > 25:
            return _("Within the usual range")
        return _("Lower than most")

    @property
    def sentence(self) -> str:
        district = self.district.name()
        if self.percentile is None:
            return _(
                "Too few comparable rents in %(district)s in the last three months "
                "(%(count)s; at least %(needed)s are needed) to say whether this rent is fair."
            ) % {"district": district, "count": self.count, "needed": settings.KROV_RENT_FAIR_MIN}
        return _(
            "Higher than %(percent)s%% of %(count)s comparable flats in %(district)s "
            "in the last three months (their median: %(median)s EUR)."
        ) % {
            "percent": self.percentile,
            "count": self.count,
            "district": district,
            "median": self.median,
        }


def to_eur(amount: Decimal, currency: str, rate: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(amount in EUR, the rate used): RSD converted with KROV_HOUSING_RSD_PER_EUR."""
    if currency == Listing.Currency.RSD:
        rate = rate or settings.KROV_HOUSING_RSD_PER_EUR
        return (amount / rate).quantize(CENT), rate
    return amount.quantize(CENT), Decimal(1)


def percentile_of(value: float, sample: list[float]) -> int:
    """Share of the sample below `value`, counting ties as half, in whole percent."""
    below = sum(1 for v in sample if v < value)
    same = sum(1 for v in sample if v == value)
    return round(100 * (below + same / 2) / len(sample))


def fair_rent(
    district: District,
    size_m2: Decimal,
    rent_eur: Decimal,
    *,
    today: date | None = None,
    exclude_listing: int | None = None,
) -> Verdict:
    """Where this rent lies among the district's counted rents of the last three months for
    flats within 30% of this size. One query."""
    month = month_of(today or timezone.localdate())
    observations = RentObservation.objects.filter(
        district=district,
        status=OK,
        month__gte=add_months(month, -2),
        month__lte=month,
        size_m2__gte=size_m2 * Decimal("0.7"),
        size_m2__lte=size_m2 * Decimal("1.3"),
    )
    if exclude_listing:
        observations = observations.exclude(listing_id=exclude_listing)
    sample = list(
        observations.annotate(r=Cast("rent_eur", FloatField())).values_list("r", flat=True)
    )
    verdict = Verdict(district=district, rent_eur=rent_eur, count=len(sample))
    if len(sample) >= settings.KROV_RENT_FAIR_MIN:
        verdict.percentile = percentile_of(float(rent_eur), sample)
        verdict.median = Decimal(repr(statistics.median(sample))).quantize(Decimal(1))
    return verdict
