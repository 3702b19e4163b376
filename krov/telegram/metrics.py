"""The Telegram figures of /metrics (krov.core.metrics): counts only."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count
from prometheus_client.core import GaugeMetricFamily, Metric

from krov.core import metrics
from krov.telegram.models import Outbound
from krov.telegram.services import parked_updates


def parked() -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "krov_telegram_updates_parked",
        "Telegram updates parked for an administrator.",
        value=parked_updates()["count"],
    )


def outbox() -> Iterator[Metric]:
    waiting = [status for status in Outbound.Status.values if status != Outbound.Status.SENT]
    counts = dict(
        Outbound.objects.filter(status__in=waiting)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    family = GaugeMetricFamily(
        "krov_telegram_outbox", "Telegram calls not yet sent, by status.", labels=["status"]
    )
    for status in waiting:
        family.add_metric([status], counts.get(status, 0))
    yield family


metrics.register("telegram_parked", parked)
metrics.register("telegram_outbox", outbox)
