"""The rent index: per district and month (and for the whole city) the median rent, the
median rent per m², their interquartile ranges and the count; the fair-rent check.

Only observations with status "ok" count. A cell with fewer than KROV_RENT_MIN_CELL of them
stores no figures at all, so no page or API answer can show one. Quartiles are Python's
`statistics.quantiles(method="inclusive")`, the median is its middle cut."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Count, FloatField, Max, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.core import pagecache
from krov.housing.models import District, Listing, RentIndexCell, RentObservation
from krov.housing.parsing import add_months, month_of

CENT = Decimal("0.01")
OK = RentObservation.Status.OK


def _quartiles(values: list[float]) -> tuple[Decimal, Decimal, Decimal]:
    if len(values) == 1:
        q1 = median = q3 = values[0]
    else:
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return tuple(Decimal(repr(v)).quantize(CENT) for v in (q1, median, q3))  # type: ignore[return-value]


def _cell(area: str, district_id: int | None, month: date, rents: list[float], per_m2: list[float],
          flagged: int, now) -> RentIndexCell:  # fmt: skip
    cell = RentIndexCell(
        area=area,
        district_id=district_id,
        month=month,
        count=len(rents),
        flagged=flagged,
        computed_at=now,
        suppressed=len(rents) < settings.KROV_RENT_MIN_CELL,
    )
    if not cell.suppressed:
        cell.q1_rent, cell.median_rent, cell.q3_rent = _quartiles(rents)
        cell.q1_m2, cell.median_m2, cell.q3_m2 = _quartiles(per_m2)
    return cell


def recompute(months: Iterable[date]) -> int:
    """Recompute the cells of these months (all districts and the city). Returns the number
    of months done. Each month is one read and one replace, in its own transaction."""
    months = sorted({month_of(m) for m in months})
    if not months:
        return 0
    slugs = dict(District.objects.values_list("id", "slug"))
    for month in months:
        rows = (
            RentObservation.objects.filter(month=month, status=OK)
            .annotate(r=Cast("rent_eur", FloatField()), p=Cast("per_m2", FloatField()))
            .values_list("district_id", "r", "p")
        )
        rents: dict[int, list[float]] = defaultdict(list)
        per_m2: dict[int, list[float]] = defaultdict(list)
        for district_id, rent, per in rows.iterator(chunk_size=5000):
            rents[district_id].append(rent)
            per_m2[district_id].append(per)
        flagged = dict(
            RentObservation.objects.filter(month=month, status=RentObservation.Status.IMPLAUSIBLE)
            .values("district_id")
            .annotate(n=Count("id"))
            .values_list("district_id", "n")
        )
        now = timezone.now()
        cells = [
            _cell(slugs[d], d, month, rents[d], per_m2[d], flagged.get(d, 0), now)
            for d in sorted(set(rents) | set(flagged))
        ]
        all_rents = [v for values in rents.values() for v in values]
        if all_rents or flagged:
            all_m2 = [v for values in per_m2.values() for v in values]
            cells.append(
                _cell(
                    RentIndexCell.CITY, None, month, all_rents, all_m2, sum(flagged.values()), now
                )
            )
        with transaction.atomic():
            RentIndexCell.objects.filter(month=month).delete()
            RentIndexCell.objects.bulk_create(cells)
    pagecache.invalidate("housing")
    return len(months)


def reflag() -> int:
    """Apply the current plausibility bounds (KROV_RENT_PER_M2_MIN/MAX) to every observation
    not excluded by moderators. Returns how many changed status."""
    low, high = settings.KROV_RENT_PER_M2_MIN, settings.KROV_RENT_PER_M2_MAX
    outside = Q(per_m2__lt=low) | Q(per_m2__gt=high)
    implausible = RentObservation.Status.IMPLAUSIBLE
    changed = RentObservation.objects.filter(outside, status=OK).update(status=implausible)
    changed += RentObservation.objects.filter(status=implausible).exclude(outside).update(status=OK)
    return changed


def rebuild() -> int:
    """Re-apply the plausibility bounds, then recompute every month that has observations
    or cells."""
    reflag()
    months = set(RentObservation.objects.values_list("month", flat=True).distinct())
    stale = set(RentIndexCell.objects.values_list("month", flat=True).distinct()) - months
    RentIndexCell.objects.filter(month__in=stale).delete()
    return recompute(months)


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
