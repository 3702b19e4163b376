"""Press tests fetch feeds over real HTTP from a local server on 127.0.0.1 (one for the
package, its routes set by each test), with private addresses allowed unless a test says
otherwise."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from krov.accounts import services as account_services
from krov.bulletins import services as bulletins

FIXTURES = Path(__file__).parent / "fixtures"
Route = Callable[[BaseHTTPRequestHandler], None]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A client that hung up (a refused 50 MB feed, a timeout) is no error here."""
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()  # lets a slow route go at the end of a test
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append((self.path, dict(self.headers.items())))
                route = server.routes.get(self.path)
                if route is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with contextlib.suppress(ConnectionError):  # the client hung up
                    route(self)

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def send(
    status: int, body: bytes = b"", *, content_type="application/rss+xml", headers=None
) -> Route:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    return route


def fixture_feed(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="package")
def _feed_server():
    server = FeedServer().start()
    yield server
    server.stop()


@pytest.fixture
def feed_server(_feed_server, settings) -> FeedServer:
    _feed_server.routes.clear()
    _feed_server.requests.clear()
    _feed_server.release.clear()
    settings.KROV_PRESS_ALLOW_PRIVATE = True
    settings.KROV_PRESS_PROXY = ""
    settings.KROV_PRESS_TIMEOUT = 2
    settings.KROV_PRESS_MAX_BYTES = 200_000
    yield _feed_server
    _feed_server.release.set()


@pytest.fixture
def editor(personas):
    return personas["editor"].user


@pytest.fixture
def second_editor(db):
    return account_services.create_account(
        email="editor2@example.org", pseudonym="Pero2", password=None, roles=["editor"]
    )


@pytest.fixture
def publish(second_editor, django_capture_on_commit_callbacks):
    """Submit a draft and have a second editor approve it (committed, as in production)."""

    def _publish(post, *, author):
        bulletins.submit(post, actor=author)
        with django_capture_on_commit_callbacks(execute=True):
            bulletins.approve(post, actor=second_editor, seen=bulletins.fingerprint(post))
        post.refresh_from_db()
        return post

    return _publish
