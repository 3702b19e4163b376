"""The rent index: per district and month (and for the whole city) the median rent, the
median rent per m², their interquartile ranges and the count; the fair-rent check.

Only observations with status "ok" count. A cell with fewer than KROV_RENT_MIN_CELL of them
stores no figures at all, so no page or API answer can show one. Quartiles are Python's
`statistics.quantiles(method="inclusive")`, the median is its middle cut.

The database does the ordering and Python only the arithmetic: for each quartile the two
neighbours it interpolates reach Python, which interpolates them with the statistics
module's own float operations (so the figures are those of `statistics`, to the cent). On
SQLite an index per district and month (and one per month for the city) holds each figure's
values in order and the neighbours are found by walking it from its nearer end (`OFFSET k
LIMIT 2`); PostgreSQL aggregates each group's values in order and picks them."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, FloatField, Max, Q, Value, When
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
    # Per figure, how many values its quartiles were read among, when a query other than
    # the count's read them (it is the count unless rows came or went in between).
    n: dict[str, int] = field(default_factory=dict)
    at: dict[str, dict[int, float]] = field(default_factory=lambda: {f: {} for f in FIGURES})


@dataclass(frozen=True)
class _Walk:
    """Two neighbours of a group in one figure's order: skip `offset` values from the low end
    (or from the high end when `down`)."""

    month: date
    district_id: int | None
    figure: str
    offset: int
    down: bool
    low_rank: int  # the rank of the lower neighbour, 0-based from the low end


def _walks(key: tuple[date, int | None], n: int) -> list[_Walk]:
    month, district_id = key
    walks = []
    for j in sorted(set(cuts(n))):
        # From the nearer end: x[j], x[j+1] are the (n-2-j)th and next from the top.
        from_top = max(n - 2 - j, 0)
        down = from_top < j
        offset = from_top if down else j
        for figure in FIGURES:
            walks.append(_Walk(month, district_id, figure, offset, down, j))
    return walks


def _walk_sql(walk_figure: str, *, city: bool, down: bool, placeholder: str) -> str:
    table = connection.ops.quote_name(RentObservation._meta.db_table)
    real = FloatField().db_type(connection)
    district = "" if city else f" AND district_id = {placeholder}"
    order = "DESC" if down else "ASC"
    # Identifiers from this module only (FIGURES, the model's table); values are parameters.
    return (
        f"SELECT CAST({walk_figure} AS {real}) FROM {table} "  # noqa: S608
        f"WHERE status = {placeholder} AND month = {placeholder}{district} "
        f"ORDER BY {walk_figure} {order} LIMIT 2 OFFSET {placeholder}"
    )


def _neighbours_sqlite(walks: list[_Walk]) -> list[list[float]]:
    """Each walk one statement on the raw connection: thousands of index seeks of a few
    microseconds, with SQLite's statement cache doing the parsing once."""
    statements = {
        (figure, city, down): _walk_sql(figure, city=city, down=down, placeholder="?")
        for figure in FIGURES
        for city in (False, True)
        for down in (False, True)
    }
    status = str(OK)
    months: dict[date, str] = {}
    connection.ensure_connection()
    cursor = connection.connection.cursor()
    try:
        out = []
        for walk in walks:
            month = months.get(walk.month)
            if month is None:
                month = months[walk.month] = str(connection.ops.adapt_datefield_value(walk.month))
            if walk.district_id is None:
                params: tuple = (status, month, walk.offset)
            else:
                params = (status, month, walk.district_id, walk.offset)
            sql = statements[(walk.figure, walk.district_id is None, walk.down)]
            out.append([row[0] for row in cursor.execute(sql, params)])
        return out
    finally:
        cursor.close()


# PostgreSQL: walking an index costs it more per row than sorting a group in memory, so
# each figure's values come aggregated in order, one array per group, and only the values
# at the ranks read leave the database (arrays count from 1: x[j] is a[j + 1]).
_ARRAYS = """
SELECT month, district_id, n, {picks} FROM (
    SELECT month, {district} AS district_id, COUNT(*) AS n,
        array_agg(CAST({figure} AS double precision) ORDER BY {figure}) AS a
    FROM {table} WHERE status = %s{months} GROUP BY month{group}
) g WHERE n >= %s
"""
_PICKS = ", ".join(
    f"a[{j} + {k}]" for j in ("(n - 1) / 4", "(n - 1) / 2", "3 * (n - 1) / 4") for k in (1, 2)
)


def _neighbours_arrays(
    months: list[date] | None, groups: dict[tuple[date, int | None], _Group]
) -> None:
    table = connection.ops.quote_name(RentObservation._meta.db_table)
    where = "" if months is None else " AND month = ANY(%s)"
    for figure in FIGURES:
        for city in (False, True):
            sql = _ARRAYS.format(
                picks=_PICKS,
                district="NULL::integer" if city else "district_id",
                figure=figure,
                table=table,
                months=where,
                group="" if city else ", district_id",
            )
            params: list[Any] = [OK, *([] if months is None else [months])]
            with connection.cursor() as cursor:
                cursor.execute(sql, [*params, settings.KROV_RENT_MIN_CELL])
                for month, district_id, n, *values in cursor.fetchall():
                    group = groups[(month, district_id)]
                    group.n[figure] = n
                    ranks = [j + k for j in cuts(n) for k in (0, 1)]
                    for rank, value in zip(ranks, values, strict=True):
                        if value is not None:
                            group.at[figure][rank] = value


def _groups(months: list[date] | None) -> dict[tuple[date, int | None], _Group]:
    """Per (month, district), and per (month, None) for the city: the counts, and for cells
    that show figures the values their quartiles read."""
    counts = RentObservation.objects.filter(status__in=[OK, IMPLAUSIBLE])
    if months is not None:
        counts = counts.filter(month__in=months)
    groups: dict[tuple[date, int | None], _Group] = defaultdict(_Group)
    for status, month, district_id, n in (
        counts.values("status", "month", "district_id")
        .annotate(n=Count("*"))
        .values_list("status", "month", "district_id", "n")
        .order_by()
    ):
        for key in ((month, district_id), (month, None)):
            if status == OK:
                groups[key].count += n
            else:
                groups[key].flagged += n
    if connection.vendor != "sqlite":
        _neighbours_arrays(months, groups)
        return groups
    walks = [
        walk
        for key, group in groups.items()
        if group.count >= settings.KROV_RENT_MIN_CELL
        for walk in _walks(key, group.count)
    ]
    for walk, values in zip(walks, _neighbours_sqlite(walks), strict=True):
        at = groups[(walk.month, walk.district_id)].at[walk.figure]
        # The two neighbours in ascending order, whichever end the walk started from.
        for rank, value in enumerate(sorted(values), start=walk.low_rank):
            at[rank] = value
    return groups


def _compute(months: list[date] | None) -> list[RentIndexCell]:
    slugs = dict(District.objects.values_list("id", "slug"))
    now = timezone.now()
    cells = []
    with transaction.atomic():  # one snapshot for the counts and the values (SQLite's WAL)
        groups = _groups(months)
    for (month, district_id), group in sorted(
        groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)
    ):
        cell = RentIndexCell(
            area=RentIndexCell.CITY if district_id is None else slugs[district_id],
            district_id=district_id,
            month=month,
            count=group.count,
            flagged=group.flagged,
            computed_at=now,
            suppressed=group.count < settings.KROV_RENT_MIN_CELL,
        )
        if not cell.suppressed and not (group.at["rent_eur"] and group.at["per_m2"]):
            cell.suppressed = True  # rows went between the count and the read: next time
        if not cell.suppressed:
            cell.q1_rent, cell.median_rent, cell.q3_rent = quartiles(
                group.n.get("rent_eur", group.count), group.at["rent_eur"]
            )
            cell.q1_m2, cell.median_m2, cell.q3_m2 = quartiles(
                group.n.get("per_m2", group.count), group.at["per_m2"]
            )
        cells.append(cell)
    return cells


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
    cells = _compute(months)
    with transaction.atomic():
        _one_writer_at_a_time()
        RentIndexCell.objects.filter(month__in=months).delete()
        RentIndexCell.objects.bulk_create(cells, batch_size=500)
    pagecache.invalidate("housing")
    return len(months)


def reflag() -> int:
    """Apply the current plausibility bounds (KROV_RENT_PER_M2_MIN/MAX) to every observation
    not excluded by moderators. Returns how many changed status. Only the rows that change
    are read (index on status and rent per m²)."""
    low, high = settings.KROV_RENT_PER_M2_MIN, settings.KROV_RENT_PER_M2_MAX
    to_flag = Q(status=OK, per_m2__lt=low) | Q(status=OK, per_m2__gt=high)
    to_clear = Q(status=IMPLAUSIBLE, per_m2__gte=low, per_m2__lte=high)
    return RentObservation.objects.filter(to_flag | to_clear).update(
        status=Case(When(status=OK, then=Value(IMPLAUSIBLE)), default=Value(OK))
    )


def rebuild() -> int:
    """Re-apply the plausibility bounds, then recompute every month: the cells of months
    without observations go. Returns the number of months with observations."""
    reflag()
    months = RentObservation.objects.values("month").distinct().count()
    cells = _compute(None)
    with transaction.atomic():
        _one_writer_at_a_time()
        RentIndexCell.objects.all().delete()
        RentIndexCell.objects.bulk_create(cells, batch_size=500)
    pagecache.invalidate("housing")
    return months


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
