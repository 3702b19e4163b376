"""Figures for coordinators. Small counts are shown as "<5" so that no figure singles out
a person; the numbers themselves come from the anonymous record that retention keeps."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from statistics import median

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from krov.aid.models import HelpRequest

SMALL = 5
AGE_BUCKETS = [(1, "< 1 h"), (6, "1–6 h"), (24, "6–24 h"), (72, "1–3 d"), (None, "> 3 d")]


def shown(count: int) -> str:
    return "<5" if 0 < count < SMALL else str(count)


def dashboard(*, weeks: int = 8) -> dict:
    now = timezone.now()
    open_created = HelpRequest.objects.open().values_list("created_at", flat=True)
    buckets = [0] * len(AGE_BUCKETS)
    for created in open_created:
        hours = (now - created).total_seconds() / 3600
        for index, (limit, _label) in enumerate(AGE_BUCKETS):
            if limit is None or hours < limit:
                buckets[index] += 1
                break
    since = now - timedelta(weeks=weeks)
    responded = HelpRequest.objects.filter(
        created_at__gte=since, first_response_at__isnull=False
    ).values_list("created_at", "first_response_at")
    waits = [
        (first - created).total_seconds() / 60 for created, first in responded if first is not None
    ]
    weekly = (
        HelpRequest.objects.filter(created_at__gte=since)
        .exclude(status=HelpRequest.Status.SPAM)
        .annotate(week=TruncWeek("created_at"))
        .values("week", "skill__slug", "skill__name", "language", "outcome")
        .annotate(n=Count("id"))
        .order_by("week")
    )
    by_week: dict = defaultdict(lambda: defaultdict(int))
    by_category: dict = defaultdict(lambda: defaultdict(int))
    by_language: dict = defaultdict(lambda: defaultdict(int))
    by_outcome: dict = defaultdict(lambda: defaultdict(int))
    week_keys = []
    for row in weekly:
        week = row["week"].date()
        if week not in week_keys:
            week_keys.append(week)
        by_week[week]["total"] += row["n"]
        by_category[row["skill__slug"]][week] += row["n"]
        by_language[row["language"]][week] += row["n"]
        if row["outcome"]:
            by_outcome[row["outcome"]][week] += row["n"]

    def table(source: dict) -> list[tuple[str, list[str]]]:
        return [
            (key, [shown(values.get(week, 0)) for week in week_keys])
            for key, values in sorted(source.items())
        ]

    return {
        "open_by_age": [
            (label, shown(count)) for (_l, label), count in zip(AGE_BUCKETS, buckets, strict=True)
        ],
        "open_total": shown(sum(buckets)),
        "median_first_response_minutes": round(median(waits)) if len(waits) >= SMALL else None,
        "weeks": week_keys,
        "totals": [shown(by_week[week]["total"]) for week in week_keys],
        "by_category": table(by_category),
        "by_language": table(by_language),
        "by_outcome": table(by_outcome),
    }
