"""What GET /metrics tells Prometheus: counts and durations, never ids, addresses or content.

Two kinds of figures:
- per request, counted by `MetricsMiddleware` (first in MIDDLEWARE, so answers from the page
  cache and redirects to HTTPS are counted too): requests by view name and status class, and
  their durations by view name. Label values come from the URL configuration (a route's
  name), never from the request, so they are few and say nothing about anyone. Each process
  counts its own requests; with several gunicorn workers, set PROMETHEUS_MULTIPROC_DIR to an
  empty folder (the same for every worker, emptied when the service starts) and every
  scrape sums all workers' counts (prometheus-client's multiprocess mode).
- state read from the database at scrape time (one query each, whichever worker answers):
  tasks waiting in the queue here; each app adds its own in its `metrics.py` with
  `register()` (krov.telegram: parked updates, calls waiting by status; krov.aid: offers
  waiting for a volunteer, open cases by age).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

# The request figures of this process (or, in multiprocess mode, its share on disk).
REGISTRY = CollectorRegistry(auto_describe=False)
REQUESTS = Counter(
    "krov_http_requests",
    "HTTP requests answered, by view name and status class.",
    ["view", "status"],
    registry=REGISTRY,
)
DURATION = Histogram(
    "krov_http_request_duration_seconds",
    "Time from the first middleware to the answer, by view name.",
    ["view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)

# Views without a route: answered by the page cache before URL resolution, or by a
# middleware above it (an HTTPS redirect), or no route matched.
CACHED = "page_cache"
UNRESOLVED = "unresolved"


def view_label(request: HttpRequest, response: HttpResponse) -> str:
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    if response.get("X-Krov-Cache") == "hit":
        return CACHED
    return UNRESOLVED


class MetricsMiddleware:
    """Counts every answer and how long it took; a few microseconds, no I/O."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request, response)
        REQUESTS.labels(view, f"{response.status_code // 100}xx").inc()
        DURATION.labels(view).observe(time.perf_counter() - started)
        return response


# --- state read at scrape time ---------------------------------------------------------------


def queue_pending() -> Iterator[Metric]:
    from huey.contrib.djhuey import HUEY

    yield GaugeMetricFamily(
        "krov_queue_pending", "Tasks waiting in the queue.", value=HUEY.pending_count()
    )


# Each app adds its own figures from its `metrics.py` (found on the first scrape): core
# reaches apps only through what they register.
STATE: dict[str, Callable[[], Iterator[Metric]]] = {"queue": queue_pending}
_discovered = False


def register(name: str, part: Callable[[], Iterator[Metric]]) -> None:
    """An app's state figures: `part()` yields prometheus-client metric families (gauges
    of counts, one query or so; never ids, names or content). Registering twice replaces."""
    STATE[name] = part


def discover() -> None:
    """Import `metrics` of every Krov app once, so that each registers its figures."""
    global _discovered
    if _discovered:
        return
    from importlib import import_module

    from django.apps import apps
    from django.utils.module_loading import module_has_submodule

    for config in apps.get_app_configs():
        if config.name.startswith("krov.") and module_has_submodule(config.module, "metrics"):
            import_module(f"{config.name}.metrics")
    _discovered = True


class StateCollector:
    """Reads the state figures when Prometheus scrapes; a part that fails (the queue's Redis
    down, say) is reported in krov_metrics_part_failed and leaves the others standing."""

    def collect(self) -> Iterator[Metric]:
        failed = GaugeMetricFamily(
            "krov_metrics_part_failed",
            "1 when a part of the state figures could not be read on this scrape.",
            labels=["part"],
        )
        for name, part in STATE.items():
            try:
                found = list(part())
            except Exception as exc:  # one broken part must not hide the others
                log.warning("metrics part %s failed: %s", name, type(exc).__name__)
                failed.add_metric([name], 1)
                continue
            failed.add_metric([name], 0)
            yield from found
        yield failed


def render() -> bytes:
    """The exposition text: request figures (this process's, or every worker's in
    multiprocess mode) followed by the state read now."""
    if settings.PROMETHEUS_MULTIPROC_DIR:
        from prometheus_client import multiprocess

        requests = CollectorRegistry(auto_describe=False)
        multiprocess.MultiProcessCollector(requests, path=settings.PROMETHEUS_MULTIPROC_DIR)
    else:
        requests = REGISTRY
    discover()
    state = CollectorRegistry(auto_describe=False)
    state.register(StateCollector())  # type: ignore[arg-type]
    return generate_latest(requests) + generate_latest(state)
