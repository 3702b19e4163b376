"""Fetching one feed over HTTP, safely: conditional GET, a time limit, a size limit, an
optional proxy, and no server-side request forgery.

Without a proxy, the host's name is resolved here, every address it has is checked, and the
connection goes to a checked address (the name is still sent as Host and for TLS), so a
name that resolves to a public address when checked and to a private one when connecting
leads nowhere. Redirects are followed by hand, each checked the same way, at most
`MAX_REDIRECTS`. With a proxy (`KROV_PRESS_PROXY`, e.g. Tor) names are left to the proxy,
which is the point of one; addresses written as numbers and "localhost" are still refused.

Only the feed is read, never the articles it links to. Nothing here writes the database:
`fetch()` answers a `Fetched` or raises `FetchError` with a message for editors.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.utils.translation import gettext_lazy as _

MAX_REDIRECTS = 5
USER_AGENT = "Krov press watch (+https://krov.example/)"
_REDIRECTS = {301, 302, 303, 307, 308}


# What went wrong, by code: a source stores the code ("status:404"), and each editor reads
# the message in their own language.
MESSAGES = {
    "scheme": _("Only http and https addresses can be fetched."),
    "credentials": _("An address with a user name or password is not accepted."),
    "dns": _("The server's name could not be found."),
    "private": _("The address is private, loopback or link-local: refused."),
    "status": _("The server answered with HTTP status %(detail)s."),
    "too_large": _("The feed is larger than the size limit."),
    "timeout": _("The server took too long to answer."),
    "unreachable": _("The server could not be reached."),
    "redirects": _("Too many redirects."),
    "proxy": _("The proxy cannot be used: its support is not installed."),
    "not_a_feed": _("This is not an RSS or Atom feed."),
    "malformed": _("The feed is not well-formed XML."),
    "internal": _("The feed could not be read (an unexpected error; see the server log)."),
}


def message(code: str) -> str:
    """The message for a stored code ("status:404"), in the active language."""
    name, _sep, detail = code.partition(":")
    text = MESSAGES.get(name)
    if text is None:
        return code
    return str(text) % {"detail": detail} if "%(detail)s" in str(text) else str(text)


class FetchError(Exception):
    """A feed that could not be read: `code` (a key of MESSAGES, maybe with ":detail")."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return message(self.code)


@dataclass(frozen=True)
class Fetched:
    not_modified: bool
    body: bytes = b""
    content_type: str = ""
    etag: str = ""
    last_modified: str = ""


def address_allowed(address: str) -> bool:
    """A public address, or any address where private ones are allowed (development)."""
    if settings.KROV_PRESS_ALLOW_PRIVATE:
        return True
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> None:
    """Refuse what is never a feed address: other schemes, passwords in the address."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise FetchError("scheme")
    if parts.username or parts.password:
        raise FetchError("credentials")


def _literal_ip(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def _resolve(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise FetchError("dns") from error
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _refused() -> FetchError:
    return FetchError("private")


def _target(url: str, *, proxied: bool) -> tuple[str, dict[str, str], dict]:
    """The URL to ask, with the Host header and TLS name to send; checks the address."""
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    literal = _literal_ip(host)
    if proxied:
        if (literal and not address_allowed(literal)) or (
            host.rstrip(".").lower().endswith("localhost") and not address_allowed("127.0.0.1")
        ):
            raise _refused()
        return url, {}, {}
    if literal:
        if not address_allowed(literal):
            raise _refused()
        return url, {}, {}
    addresses = _resolve(host, port)
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise _refused()
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    if parts.port:
        netloc += f":{parts.port}"
    pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    try:
        ascii_host = host.encode("idna").decode("ascii")  # an international name, as sent
    except UnicodeError as error:
        raise FetchError("dns") from error
    host_header = ascii_host + (f":{parts.port}" if parts.port else "")
    return pinned, {"Host": host_header}, {"sni_hostname": ascii_host}


def client() -> httpx.Client:
    timeout = settings.KROV_PRESS_TIMEOUT
    return httpx.Client(
        proxy=settings.KROV_PRESS_PROXY or None,
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        trust_env=False,
    )


def fetch(url: str, *, etag: str = "", last_modified: str = "") -> Fetched:
    """The feed at `url`, or `not_modified` when the server says nothing changed."""
    limit = settings.KROV_PRESS_MAX_BYTES
    deadline = time.monotonic() + settings.KROV_PRESS_TIMEOUT
    conditional = {}
    if etag:
        conditional["If-None-Match"] = etag
    if last_modified:
        conditional["If-Modified-Since"] = last_modified
    proxied = bool(settings.KROV_PRESS_PROXY)
    try:
        with client() as http:
            for _hop in range(MAX_REDIRECTS + 1):
                target, headers, extensions = _target(url, proxied=proxied)
                request = http.build_request(
                    "GET", target, headers={**conditional, **headers}, extensions=extensions
                )
                response = http.send(request, stream=True)
                try:
                    if response.status_code in _REDIRECTS and response.headers.get("location"):
                        url = urljoin(url, response.headers["location"])
                        continue
                    if response.status_code == 304:
                        return Fetched(not_modified=True, etag=etag, last_modified=last_modified)
                    if response.status_code != 200:
                        raise FetchError(f"status:{response.status_code}")
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > limit:
                        raise FetchError("too_large")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > limit:
                            raise FetchError("too_large")
                        if time.monotonic() > deadline:
                            raise FetchError("timeout")
                    return Fetched(
                        not_modified=False,
                        body=bytes(body),
                        content_type=response.headers.get("content-type", ""),
                        etag=response.headers.get("etag", "")[:300],
                        last_modified=response.headers.get("last-modified", "")[:100],
                    )
                finally:
                    response.close()
            raise FetchError("redirects")
    except httpx.TimeoutException as error:
        raise FetchError("timeout") from error
    except httpx.HTTPError as error:
        raise FetchError("unreachable") from error
    except ImportError as error:  # a SOCKS proxy without httpx's socks extra
        raise FetchError("proxy") from error
