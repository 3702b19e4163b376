"""Logging that cannot betray anyone: no request object, no secret, no address.

`ScrubRequestFilter` drops the request from records. `RedactFilter` rewrites the finished
message (and any traceback) of every record: the Telegram bot token and webhook secret,
capability tokens in URLs (a requester's case link, an RSVP link, a password-reset key),
64-digit hex digests (a Telegram chat's lookup key, a contact's keyed hash: a database error
quoting a row's key would otherwise tie the log line to that chat) and IP addresses become
placeholders. Both sit on every handler Krov configures, gunicorn's
included (`krov.gunicorn_conf`).
"""

from __future__ import annotations

import ipaddress
import logging
import re

# Paths whose last parts are secrets: /<lang>/help/c/<token>/, /<lang>/events/rsvp/<token>/,
# allauth's reset and confirmation keys.
_CAPABILITY = re.compile(
    r"(/(?:help/c|events/rsvp|accounts/password/reset/key|accounts/confirm-email)/)[^/\s\"'?#]+"
)
# A Telegram bot token as in https://api.telegram.org/bot<id>:<secret>/method
_BOT_TOKEN = re.compile(r"\b\d{3,12}:[A-Za-z0-9_-]{3,}(?=/|\b)")
# A SHA-256 or Argon2id output in hex, as the chat keys and keyed hashes are stored.
_DIGEST = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{64}(?![0-9A-Za-z])")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])")
# IPv6 candidates: runs of hex digits, colons and dots with at least two colons; each is
# checked with `ipaddress`, so "12:30:45" stays while "::1" and "2001:db8::7" go.
_IPV6_CANDIDATE = re.compile(r"(?<![0-9A-Za-z:.])[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


def _known_secrets() -> list[str]:
    try:
        from django.conf import settings

        names = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "KROV_METRICS_TOKEN")
        return [
            value for name in names if len(value := str(getattr(settings, name, "") or "")) >= 6
        ]
    except Exception:  # settings not configured (e.g. gunicorn's arbiter before loading)
        return []


def _ipv6_or_keep(match: re.Match[str]) -> str:
    candidate = match.group(0)
    # The run may end in punctuation of the sentence ("… from ::1."): try shorter forms.
    for length in range(len(candidate), 1, -1):
        try:
            ipaddress.IPv6Address(candidate[:length])
        except ValueError:
            continue
        return "[address]" + candidate[length:]
    return candidate


def redact(text: str) -> str:
    for secret in _known_secrets():
        text = text.replace(secret, "[secret]")
    text = _CAPABILITY.sub(r"\1[token]", text)
    text = _DIGEST.sub("[digest]", text)
    text = _EMAIL.sub("[email]", text)
    text = _BOT_TOKEN.sub("[bot-token]", text)
    text = _IPV6_CANDIDATE.sub(_ipv6_or_keep, text)
    return _IPV4.sub("[address]", text)


class ScrubRequestFilter(logging.Filter):
    """Drop the request from log records so no address or user agent is ever written."""

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        return True


class RedactFilter(logging.Filter):
    """Replace secrets, capability tokens and addresses in the message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the template only
            message = str(record.msg)
        record.msg, record.args = redact(message), None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = redact(formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
