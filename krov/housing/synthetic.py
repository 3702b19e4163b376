"""A SYNTHETIC rent dataset for demonstrations and benchmarks: not measurements.

Every district gets rents from January 2021 to a given month: a price level per m² that
differs by district, flat until early 2022, then roughly doubling over the following year
(the arrival of tens of thousands of newcomers), then creeping up. Sizes are log-normal
around 55 m²; one rent in five is in dinars; a few rows carry typing mistakes (a zero too
many or too few) so that the implausibility check has something to catch. Outlying
municipalities get few rents a month, so some months show "too few data"."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from django.conf import settings

from krov.housing.parsing import add_months

SOURCE = "synthetic-demo"
START = date(2021, 1, 1)

# EUR per m² in 2021 and rents per month: central and popular districts first.
LEVELS = {
    "savski-venac": (8.4, 40),
    "vracar": (8.0, 45),
    "stari-grad": (8.2, 40),
    "novi-beograd": (7.2, 50),
    "zemun": (6.0, 30),
    "zvezdara": (5.6, 25),
    "palilula": (5.8, 25),
    "vozdovac": (5.6, 25),
    "cukarica": (5.2, 18),
    "rakovica": (4.6, 12),
    "surcin": (4.2, 6),
    "grocka": (3.6, 4),
    "obrenovac": (3.7, 5),
    "lazarevac": (3.5, 4),
    "mladenovac": (3.4, 4),
    "barajevo": (3.2, 3),
    "sopot": (3.0, 3),
}


def multiplier(month: date) -> float:
    """1.0 through February 2022, ~1.95 by March 2023, then about +0.2% a month."""
    t = (month.year - 2021) * 12 + month.month - 1
    surge_start, surge_end = 14, 26  # March 2022 .. March 2023
    if t < surge_start:
        return 1.0 + 0.002 * t
    if t <= surge_end:
        return 1.028 + 0.92 * (t - surge_start) / (surge_end - surge_start)
    return 1.948 * (1.002 ** (t - surge_end))


def rows(
    districts: dict[str, int], *, end: date, seed: int = 2022, scale: float = 1.0
) -> Iterator[tuple]:
    """(observed_on, month, district_id, size_m2, rent, currency, rate, rent_eur, per_m2)
    tuples up to the day `end`; `scale` multiplies the number of rents per cell."""
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets
    rate = Decimal(settings.KROV_HOUSING_RSD_PER_EUR)
    month = START
    while month <= end:
        last_day = 28 if month < end.replace(day=1) else min(28, end.day)
        factor = multiplier(month)
        for slug, (level, per_month) in LEVELS.items():
            district_id = districts.get(slug)
            if district_id is None:
                continue
            count = max(0, round(rng.gauss(per_month * scale, math.sqrt(per_month * scale))))
            for _ in range(count):
                size = min(160.0, max(16.0, rng.lognormvariate(math.log(55), 0.35)))
                rent = size * level * factor * rng.lognormvariate(0, 0.15)
                rent *= size**-0.08 * 55**0.08  # small flats cost more per m²
                if rng.random() < 0.004:
                    rent *= rng.choice((10, 0.1))  # a typing mistake
                rent_eur = Decimal(round(rent / 10) * 10 or 10)
                size_d = Decimal(round(size, 1)).quantize(Decimal("0.1"))
                currency, amount, used = "EUR", rent_eur, Decimal(1)
                if rng.random() < 0.2:
                    currency, used = "RSD", rate
                    amount = (rent_eur * rate).quantize(Decimal(1))
                    rent_eur = (amount / rate).quantize(Decimal("0.01"))
                day = month.replace(day=rng.randint(1, last_day))
                per_m2 = (rent_eur / size_d).quantize(Decimal("0.01"))
                yield (day, month, district_id, size_d, amount, currency, used, rent_eur, per_m2)
        month = add_months(month, 1)
