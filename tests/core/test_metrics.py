"""GET /metrics: Prometheus figures behind KROV_METRICS_TOKEN; counts only, no one's data."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from krov.aid.metrics import CASE_AGES
from krov.aid.models import HelpRequest
from krov.core import metrics
from krov.telegram.models import Outbound, Update

TOKEN = "m" * 40


@pytest.fixture
def token(settings):
    settings.KROV_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client, value=TOKEN):
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {value}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def samples(text: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.mark.django_db
def test_metrics_is_404_when_no_token_is_configured(client, settings):
    settings.KROV_METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [None, "", f"Basic {TOKEN}", "Bearer wrong", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}"],
)
def test_metrics_is_401_without_the_right_bearer_token(client, token, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/metrics", **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"krov_" not in response.content


def test_the_token_is_compared_in_constant_time(monkeypatch, rf, settings):
    import hmac

    from krov.core import views

    settings.KROV_METRICS_TOKEN = TOKEN
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    request = rf.get("/metrics", HTTP_AUTHORIZATION="Bearer guess")
    assert views.metrics(request).status_code == 401
    assert compared == [(b"guess", TOKEN.encode())]


@pytest.mark.django_db
def test_metrics_counts_requests_by_view_and_status_class(client, token):
    before = samples(scrape(client))
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page-anywhere")
    after = samples(scrape(client))

    def grew(name, labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("krov_http_requests_total", {"view": "healthz", "status": "2xx"}) == 2
    assert grew("krov_http_requests_total", {"view": "unresolved", "status": "4xx"}) == 1
    assert grew("krov_http_request_duration_seconds_count", {"view": "healthz"}) == 2
    # The earlier scrape was counted as the metrics view's own request.
    assert grew("krov_http_requests_total", {"view": "metrics", "status": "2xx"}) == 1


@pytest.mark.django_db
def test_page_cache_hits_are_counted_without_a_view_name(client, token, settings):
    settings.DEBUG = False
    client.get("/robots.txt")
    hit = client.get("/robots.txt")
    assert hit["X-Krov-Cache"] == "hit"
    found = samples(scrape(client))
    assert found[("krov_http_requests_total", (("status", "2xx"), ("view", "page_cache")))] >= 1
    assert found[("krov_http_requests_total", (("status", "2xx"), ("view", "site:robots")))] >= 1


@pytest.mark.django_db
def test_metrics_reports_waiting_work_and_open_cases_by_age(
    client, token, submit, active_case, coordinator
):
    now = timezone.now()
    with time_machine.travel(now - timedelta(days=3)):
        submit("Please help: an older request that nobody has answered yet.")
    submit()  # new now
    Update.objects.create(update_id=1, status=Update.Status.PARKED)
    Update.objects.create(update_id=2, status=Update.Status.PENDING)
    Outbound.objects.create(params="{}", status=Outbound.Status.QUEUED)
    Outbound.objects.create(params="{}", status=Outbound.Status.FAILED)
    Outbound.objects.create(params="{}", status=Outbound.Status.SENT)

    found = samples(scrape(client))

    def value(name, **labels):
        return found[(name, tuple(sorted(labels.items())))]

    assert value("krov_telegram_updates_parked") == 1
    assert (
        value("krov_telegram_outbox", status="queued")
        == Outbound.objects.filter(status=Outbound.Status.QUEUED).count()
    )
    assert value("krov_telegram_outbox", status="failed") == 1
    assert ("krov_telegram_outbox", (("status", "sent"),)) not in found
    assert value("krov_aid_offers_waiting") == 0  # active_case's offer was accepted
    open_now = HelpRequest.objects.open().count()
    ages = {label: value("krov_aid_cases_open", age=label) for label, _lower in CASE_AGES}
    assert sum(ages.values()) == open_now == 3
    assert ages["lt_1h"] == 2 and ages["1d_7d"] == 1
    assert value("krov_queue_pending") == 0
    assert all(value("krov_metrics_part_failed", part=part) == 0 for part in metrics.STATE)


@pytest.mark.django_db
def test_metrics_carry_no_ids_addresses_or_case_text(client, token, submit):
    request, secret = submit("A very particular sentence about Mariupol and my sister.")
    client.get("/healthz", REMOTE_ADDR="203.0.113.77")
    text = scrape(client)
    for forbidden in ("Mariupol", secret, str(request.public_id), request.code, "203.0.113"):
        assert forbidden not in text
    label_values = set(re.findall(r'="([^"]*)"', text))
    assert all(len(value) < 60 for value in label_values)


@pytest.mark.django_db
def test_a_part_that_fails_is_reported_and_the_rest_still_scraped(client, token, monkeypatch):
    def broken():
        raise ConnectionError("queue storage unreachable")
        yield  # pragma: no cover

    monkeypatch.setitem(metrics.STATE, "queue", broken)
    found = samples(scrape(client))
    assert found[("krov_metrics_part_failed", (("part", "queue"),))] == 1
    assert found[("krov_metrics_part_failed", (("part", "cases"),))] == 0
    assert ("krov_queue_pending", ()) not in found


@pytest.mark.django_db
def test_multiprocess_mode_sums_every_workers_counts(client, token, settings, tmp_path):
    """Two processes count requests into one folder (as gunicorn's workers would); a scrape
    answered by either sees both."""
    program = (
        "from krov.core import metrics\n"
        "metrics.REQUESTS.labels('events:list', '2xx').inc(3)\n"
        "metrics.DURATION.labels('events:list').observe(0.02)\n"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    for _worker in range(2):
        subprocess.run([sys.executable, "-c", program], env=env, check=True, timeout=60)  # noqa: S603
    settings.PROMETHEUS_MULTIPROC_DIR = str(tmp_path)
    found = samples(scrape(client))
    labels = (("status", "2xx"), ("view", "events:list"))
    assert found[("krov_http_requests_total", labels)] == 6
    assert found[("krov_http_request_duration_seconds_count", (("view", "events:list"),))] == 2
    assert ("krov_telegram_updates_parked", ()) in found
