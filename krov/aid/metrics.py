"""The mutual-aid figures of /metrics (krov.core.metrics): counts only, no case, no person."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from krov.aid.models import HelpRequest, Offer
from krov.core import metrics

# Open cases by the time since they came in: (label, lower bound).
CASE_AGES: list[tuple[str, timedelta]] = [
    ("lt_1h", timedelta(0)),
    ("1h_1d", timedelta(hours=1)),
    ("1d_7d", timedelta(days=1)),
    ("7d_30d", timedelta(days=7)),
    ("ge_30d", timedelta(days=30)),
]


def offers_waiting() -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "krov_aid_offers_waiting",
        "Offers of a case waiting for a volunteer's answer.",
        value=Offer.objects.filter(status=Offer.Status.PENDING).count(),
    )


def cases_open_by_age() -> Iterator[Metric]:
    """One query: each window is younger than the next bucket's lower bound and at least
    as old as its own."""
    now = timezone.now()
    aggregates = {}
    for position, (label, lower) in enumerate(CASE_AGES):
        window = Q()
        if position:
            window &= Q(created_at__lte=now - lower)
        if position + 1 < len(CASE_AGES):
            window &= Q(created_at__gt=now - CASE_AGES[position + 1][1])
        aggregates[label] = Count("pk", filter=window)
    counts = HelpRequest.objects.open().aggregate(**aggregates)
    family = GaugeMetricFamily(
        "krov_aid_cases_open",
        "Open help requests and cases, by time since they came in.",
        labels=["age"],
    )
    for label, _lower in CASE_AGES:
        family.add_metric([label], counts[label])
    yield family


metrics.register("offers", offers_waiting)
metrics.register("cases", cases_open_by_age)
