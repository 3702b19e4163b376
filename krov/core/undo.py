"""Undo, for a short while, a destructive action whose state allows it.

After such an action the view calls `offer(request, kind, **data)`: the next page shows
"Undo" beside its message. The button posts a signed token (kind, the person who acted, the
data the app needs to put things back) that expires after UNDO_SECONDS; only the same person
can use it, and the app's registered handler does the undoing through its own services
(which check permissions and the state again). Actions that gave up keys (a closed case)
are not offered: they cannot be undone. An action whose only message to others can wait
does not send it at once: a rejected directory proposal's proposer, and a cancelled event's
attendees, are told by a task once UNDO_SECONDS have passed, and the undo succeeds only
while nobody has been told.

Core knows no app: each app registers its kinds in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core import signing
from django.http import HttpRequest

UNDO_SECONDS = 300
SESSION_KEY = "krov_undo"
_SALT = "krov.undo"

# kind -> handler(data, actor=...) returning the message to show once undone.
Handler = Callable[..., str]
_handlers: dict[str, Handler] = {}


class UndoError(Exception):
    """The undo cannot be done (expired, someone else's, the state moved on); for people."""


def register(kind: str, handler: Handler) -> None:
    _handlers[kind] = handler


def offer(request: HttpRequest, kind: str, **data: Any) -> None:
    """Show an Undo button on the next page for what `request.user` just did."""
    if kind not in _handlers:
        raise LookupError(f"no undo handler for {kind}")
    token = signing.dumps({"k": kind, "u": request.user.pk, "d": data}, salt=_SALT)
    request.session[SESSION_KEY] = token


def pending(request: HttpRequest) -> str:
    """The token to show once (taken from the session), or ""."""
    session = getattr(request, "session", None)
    if session is None or SESSION_KEY not in session:
        return ""
    return str(session.pop(SESSION_KEY))


def undo(request: HttpRequest, token: str) -> str:
    """Carry out the undo the token stands for; the message to show."""
    from django.utils.translation import gettext as _

    try:
        found = signing.loads(token, salt=_SALT, max_age=UNDO_SECONDS)
    except signing.SignatureExpired:
        raise UndoError(_("Too late to undo: it is more than five minutes ago.")) from None
    except signing.BadSignature:
        raise UndoError(_("This undo button is not valid.")) from None
    if not isinstance(found, dict) or found.get("u") != request.user.pk:
        raise UndoError(_("This undo button is not valid."))
    handler = _handlers.get(str(found.get("k")))
    if handler is None or not isinstance(found.get("d"), dict):
        raise UndoError(_("This undo button is not valid."))
    return handler(found["d"], actor=request.user)
