from __future__ import annotations

import logging

from django.test import RequestFactory

from krov.core.logging import ScrubRequestFilter


def test_log_records_lose_the_request_and_with_it_the_address():
    request = RequestFactory().get("/en/", REMOTE_ADDR="203.0.113.5", HTTP_USER_AGENT="Agent/1")
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", (), None)
    record.request = request
    assert ScrubRequestFilter().filter(record) is True
    assert record.request is None


def test_django_request_logger_uses_the_scrubbing_handler(settings):
    handlers = settings.LOGGING["loggers"]["django.request"]["handlers"]
    for name in handlers:
        assert "scrub" in settings.LOGGING["handlers"][name]["filters"]
    assert not settings.ADMINS  # no error mails carrying request headers
