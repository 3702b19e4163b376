"""Fetching feeds over real HTTP from a local server: conditional GET, each kind of bad
input recorded on its source (never raised, never stopping the others), and no requests
to private addresses with production settings, also after a redirect."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from krov.press import fetching, services, tasks
from krov.press.models import Source, Story
from tests.press.conftest import fixture_feed, send

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(feed_server):
    def _source(path: str, name: str = "Vesti") -> Source:
        return services.add_source(feed_server.url + path, name=name, language="sr")

    return _source


def test_a_feed_is_stored_matched_and_read_again_only_when_changed(feed_server, source):
    feed_server.routes["/rss"] = send(
        200, fixture_feed("rss.xml"), headers={"ETag": '"v1"', "Last-Modified": "Tue, 01 Dec 2026"}
    )
    vesti = source("/rss")
    assert services.fetch_source(vesti) == 4
    vesti.refresh_from_db()
    assert vesti.last_ok_at is not None and vesti.last_error == ""
    assert (vesti.etag, vesti.last_modified) == ('"v1"', "Tue, 01 Dec 2026")

    stories = {story.guid: story for story in Story.objects.prefetch_related("terms")}
    rusi = stories["https://vesti.example/rusi-beograd"]
    assert rusi.title == "Да ли Руси окупирају Београд?"
    assert rusi.summary == "Кирије су се удвостручиле откад су Русима стигли..."  # no HTML
    assert "rusima" in rusi.search_text
    assert [t.term for t in rusi.terms.all()] == ["rus"]
    assert {t.term for t in stories["vesti-2"].terms.all()} == {"ukrajin", "izbeglic"}
    assert list(stories["vesti-3"].terms.all()) == []  # rusvaj
    assert stories["vesti-4"].link == ""  # a javascript: link is never kept

    # The server answers 304 to the conditional GET: nothing is read again.
    feed_server.routes["/rss"] = lambda h: (
        send(304)(h) if h.headers.get("If-None-Match") == '"v1"' else send(500)(h)
    )
    assert services.fetch_source(vesti) == 0
    _path, headers = feed_server.requests[-1]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Tue, 01 Dec 2026"
    vesti.refresh_from_db()
    assert vesti.last_error == ""


def test_an_entry_seen_before_is_not_stored_twice(feed_server, source):
    feed_server.routes["/atom"] = send(200, fixture_feed("atom.xml"))
    portal = source("/atom")
    assert services.fetch_source(portal) == 1
    assert services.fetch_source(portal) == 0
    story = Story.objects.get()
    assert {t.term for t in story.terms.all()} == {"dijaspor", "emigran"}


def _slow(feed_server):
    def route(handler):
        feed_server.release.wait(10)  # until the test ends: far past the client's timeout
        send(200, fixture_feed("rss.xml"))(handler)

    return route


def _huge(handler) -> None:
    """50 MB, sent as it is made, with no Content-Length: only counting stops it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/rss+xml")
    handler.send_header("Connection", "close")
    handler.end_headers()
    handler.wfile.write(b'<?xml version="1.0"?><rss version="2.0"><channel>')
    chunk = b"<item><title>x</title></item>" * 2000
    for _ in range(50_000_000 // len(chunk)):
        handler.wfile.write(chunk)


@pytest.mark.parametrize(
    ("route", "code"),
    [
        (send(404), "status:404"),
        (send(500), "status:500"),
        (
            send(200, b"<html><body><p>Not a feed</p></body></html>", content_type="text/html"),
            "not_a_feed",
        ),
        (send(200, b'{"feed": false}', content_type="application/json"), "not_a_feed"),
        (
            send(200, b'<?xml version="1.0"?><rss version="2.0"><channel><item><title>A & B'),
            "malformed",
        ),
        (send(200, b"x" * 300_000), "too_large"),  # declared too large: not even read
        (_huge, "too_large"),
        ("slow", "timeout"),
    ],
)
def test_each_bad_input_is_recorded_on_its_source_and_raises_nothing(
    feed_server, source, settings, route, code
):
    settings.KROV_PRESS_TIMEOUT = 1
    feed_server.routes["/bad"] = _slow(feed_server) if route == "slow" else route
    bad = source("/bad")
    assert services.fetch_source(bad) == 0
    bad.refresh_from_db()
    assert bad.last_error == code
    assert bad.last_error_at is not None and bad.last_ok_at is None
    assert not Story.objects.exists()
    assert fetching.message(code)  # every code reads as a sentence


def test_a_failing_source_never_stops_the_others(feed_server, source):
    feed_server.routes["/broken"] = send(500)
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    broken, good = source("/broken", "Broken"), source("/rss", "Good")
    counts = services.fetch_all()
    assert counts == {"sources": 2, "new": 4, "failed": 1}
    broken.refresh_from_db()
    good.refresh_from_db()
    assert broken.last_error == "status:500" and good.last_ok_at is not None


def test_an_unexpected_error_is_recorded_too(feed_server, source, monkeypatch):
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    vesti = source("/rss")

    def explode(*args, **kwargs):
        raise RuntimeError("parser bug")

    monkeypatch.setattr("krov.press.parsing.parse", explode)
    assert services.fetch_all()["failed"] == 1
    vesti.refresh_from_db()
    assert vesti.last_error == "internal"


def test_the_periodic_task_fetches_every_active_source(feed_server, source):
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    source("/rss")
    stopped = source("/atom", "Stopped")
    Source.objects.filter(pk=stopped.pk).update(active=False)
    tasks.fetch_press.call_local()
    assert Story.objects.count() == 4
    assert [path for path, _headers in feed_server.requests] == ["/rss"]


def test_a_redirect_is_followed(feed_server, source):
    feed_server.routes["/old"] = send(301, headers={"Location": "/rss"})
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    assert services.fetch_source(source("/old")) == 4


def test_more_than_five_redirects_are_refused(feed_server, source):
    for hop in range(7):
        feed_server.routes[f"/r{hop}"] = send(302, headers={"Location": f"/r{hop + 1}"})
    looping = source("/r0")
    services.fetch_source(looping)
    looping.refresh_from_db()
    assert looping.last_error == "redirects"
    assert len(feed_server.requests) == 6


# --- no server-side request forgery -------------------------------------------------------


def test_with_production_settings_loopback_is_refused_before_any_request(
    feed_server, source, settings
):
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    local = source("/rss")
    named = services.add_source(feed_server.url.replace("127.0.0.1", "localhost") + "/rss")
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    services.fetch_all()
    for refused in (local, named):
        refused.refresh_from_db()
        assert refused.last_error == "private"
    assert feed_server.requests == []


def test_a_redirect_to_a_private_address_is_refused(feed_server, source, monkeypatch):
    """The local server stands for a public one; the redirect's target is checked again."""
    monkeypatch.setattr(fetching, "address_allowed", lambda address: address == "127.0.0.1")
    feed_server.routes["/rss"] = send(
        302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    tricked = source("/rss")
    services.fetch_source(tricked)
    tricked.refresh_from_db()
    assert tricked.last_error == "private"


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.0.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_not_allowed(settings, address):
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    assert not fetching.address_allowed(address)


def test_public_addresses_are_allowed(settings):
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    assert fetching.address_allowed("93.184.216.34")
    assert fetching.address_allowed("2a00:1450:4001:80b::200e")


def test_with_a_proxy_names_are_left_to_it_but_literal_private_addresses_are_refused(
    settings,
):
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    with pytest.raises(fetching.FetchError) as refused:
        fetching._target("http://10.0.0.1/feed", proxied=True)
    assert refused.value.code == "private"
    with pytest.raises(fetching.FetchError):
        fetching._target("http://localhost/feed", proxied=True)
    assert fetching._target("http://news.example/feed", proxied=True)[0] == (
        "http://news.example/feed"
    )


def test_the_connection_goes_to_the_checked_address_with_the_name_as_host(settings, monkeypatch):
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    monkeypatch.setattr(fetching, "_resolve", lambda host, port: ["93.184.216.34"])
    url, headers, extensions = fetching._target("https://news.example:8443/rss?x=1", proxied=False)
    assert url == "https://93.184.216.34:8443/rss?x=1"
    assert headers == {"Host": "news.example:8443"}
    assert extensions == {"sni_hostname": "news.example"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://news.example/feed", "http and https"),
        ("file:///etc/passwd", "http and https"),
        ("http://user:pw@news.example/", "password"),
    ],
)
def test_only_web_addresses_without_passwords_are_accepted(db, url, message):
    with pytest.raises(services.PressError, match=message):
        services.add_source(url)


# --- the command --------------------------------------------------------------------------


def test_the_command_adds_a_source_and_fetches(feed_server, capsys):
    feed_server.routes["/rss"] = send(200, fixture_feed("rss.xml"))
    call_command("press", "add-source", feed_server.url + "/rss", "--name", "Vesti")
    assert Source.objects.get().name == "Vesti"
    call_command("press", "fetch")
    out = capsys.readouterr().out
    assert "Vesti: ok" in out and "4 new stories" in out


def test_an_international_name_is_sent_in_its_ascii_form(settings, monkeypatch):
    settings.KROV_PRESS_ALLOW_PRIVATE = False
    monkeypatch.setattr(fetching, "_resolve", lambda host, port: ["93.184.216.34"])
    _url, headers, extensions = fetching._target("https://вести.срб/rss", proxied=False)
    assert headers == {"Host": "xn--b1agj9af.xn--90a3ac"}
    assert extensions == {"sni_hostname": "xn--b1agj9af.xn--90a3ac"}
