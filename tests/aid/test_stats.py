"""Coordinator figures: small counts hidden, medians only from enough cases."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.test import Client
from django.utils import timezone

from krov.aid import services, stats

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("count", "text"), [(0, "0"), (1, "<5"), (4, "<5"), (5, "5"), (12, "12")])
def test_counts_below_five_are_shown_as_less_than_five(count, text):
    assert stats.shown(count) == text


def test_dashboard_hides_small_groups_and_reports_the_median_first_response(
    submit, make_volunteer, coordinator
):
    volunteer = make_volunteer("Veter", max_cases=20)
    start = timezone.now() - timedelta(days=2)
    for minutes in [10, 20, 30, 40, 50]:
        with time_machine.travel(start, tick=False):
            case, _t = submit(f"wait {minutes}")
            services.assign(case, volunteer, actor=coordinator)
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            services.post_reply(case, actor=volunteer.user, body="hello")
    submit("a lone Russian request", language="ru", skill="legal")
    figures = stats.dashboard()
    assert figures["median_first_response_minutes"] == 30
    languages = dict(figures["by_language"])
    assert sum(int(n) for n in languages["uk"] if n.isdigit()) == 5
    assert languages["ru"] == ["<5"] or "<5" in languages["ru"]
    client = Client()
    client.force_login(coordinator, backend="krov.accounts.backends.KrovBackend")
    page = BeautifulSoup(client.get("/en/aid/dashboard/").content, "html.parser")
    assert page.select_one(".open-total").get_text() == "6"
