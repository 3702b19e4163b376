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


# --- redaction: a whole flow, every log line checked -------------------------------------------

import io  # noqa: E402

import pytest  # noqa: E402
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from krov.core.logging import RedactFilter, redact  # noqa: E402


@pytest.fixture
def every_log_line(settings):
    """What Krov's console handler would write, with every logger at DEBUG."""
    from django.utils.module_loading import import_string

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in settings.LOGGING["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in ("django.request", "httpx"))]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    root = logging.getLogger()
    root.addHandler(handler)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        if lg is not root:
            lg.propagate = True
    yield stream
    root.removeHandler(handler)
    for lg, level, propagate in saved:
        lg.setLevel(level)
        lg.propagate = propagate


@pytest.mark.django_db(transaction=True)
def test_a_whole_flow_logs_no_token_capability_or_address(every_log_line, settings):
    from django.test import Client

    from krov.aid import services as aid
    from krov.aid.models import Skill
    from krov.telegram import outbox
    from krov.telegram import services as telegram
    from krov.telegram.fake import FakeBotAPI

    api = FakeBotAPI().start()
    try:
        settings.TELEGRAM_BOT_TOKEN = api.token
        settings.TELEGRAM_API_BASE_URL = api.base_url
        settings.KROV_TELEGRAM_CHAT_SPACING_MS = 0
        address = "203.0.113.77"
        submitted = aid.submit_request(
            channel="web",
            language="uk",
            skill=Skill.objects.get(slug="driving"),
            description="Навчіть мене водити",
        )
        token = submitted.token
        client = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
        # A CSRF failure and a 404 on capability links: both logged by Django.
        client.post(f"/uk/help/c/{token}/", {"body": "x"})
        client.get("/uk/events/rsvp/secret-rsvp-token-12345/")
        # A call to the Bot API: httpx would log the URL with the bot token.
        chat = telegram.get_or_create_chat(777123)
        telegram.send_text(chat, "hello")
        outbox.send_due()
        logging.getLogger("krov.test").warning("client %s asked for /uk/help/c/%s/", address, token)
        logging.getLogger("krov.test").error("mail to %s refused", "ana@example.org")
    finally:
        api.stop()
    lines = every_log_line.getvalue()
    assert lines.strip(), "the flow should have logged something"
    for needle in [api.token, token, "secret-rsvp-token-12345", address, "ana@example.org"]:
        assert needle not in lines, needle


@given(
    address=st.one_of(st.ip_addresses(v=4), st.ip_addresses(v=6)).map(str),
    token=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=16, max_size=43),
)
def test_redact_removes_any_address_and_capability_token(address, token):
    line = f"Forbidden (CSRF token missing.): /uk/help/c/{token}/ from {address} at 12:30:45"
    cleaned = redact(line)
    assert token not in cleaned
    assert address not in cleaned
    assert "12:30:45" in cleaned  # times are not addresses


def test_email_addresses_are_redacted():
    line = "SMTPRecipientsRefused: {'ana.petrovic+krov@example.org': (550, b'no such user')}"
    assert "ana.petrovic" not in redact(line) and "[email]" in redact(line)


def test_the_worker_logs_through_the_redacting_handler(settings):
    huey = settings.LOGGING["loggers"]["huey"]
    assert huey["handlers"] == ["console"] and huey["propagate"] is False


def test_tracebacks_are_redacted_too():
    try:
        raise ValueError("cannot reach 198.51.100.7 for /events/rsvp/abcdefabcdef0123/")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", (), sys.exc_info())
    RedactFilter().filter(record)
    assert "198.51.100.7" not in record.exc_text and "abcdefabcdef0123" not in record.exc_text


def test_every_configured_handler_redacts(settings):
    from krov import gunicorn_conf

    for config in (settings.LOGGING, gunicorn_conf.logconfig_dict):
        for name, handler in config["handlers"].items():
            assert "redact" in handler.get("filters", []), name
    assert gunicorn_conf.accesslog is None
    assert settings.LOGGING["loggers"]["httpx"]["level"] == "WARNING"


@given(st.binary(min_size=32, max_size=32).map(bytes.hex))
def test_a_chats_lookup_key_quoted_by_a_database_error_is_redacted(key):
    """PostgreSQL quotes the row in a unique-constraint error; the chat's key there would
    tie the log line (and its time) to the chat's row."""
    line = (
        'duplicate key value violates unique constraint "telegram_chat_key_key"\n'
        f"DETAIL:  Key (key)=({key}) already exists."
    )
    cleaned = redact(line)
    assert key not in cleaned and key.upper() not in redact(line.upper())
    assert "[digest]" in cleaned


def test_shorter_hex_such_as_commit_ids_and_uuids_stays():
    line = "deployed e06a343 (request 6f1c2d3e-0a4b-4c5d-8e9f-0a1b2c3d4e5f)"
    assert redact(line) == line
