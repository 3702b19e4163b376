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
from datetime import timedelta
from typing import Any

from django.core import signing
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils import timezone

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


# --- telling others once the undo window has passed ---------------------------------------


def window() -> timedelta:
    return timedelta(seconds=UNDO_SECONDS)


def tell_later(task, pk: int) -> None:
    """Once committed, schedule `task(pk)` for just after the undo window (a nudge: the
    app's periodic sweep, `tell_due` over everything due, catches a lost one)."""
    delay = UNDO_SECONDS + 1
    transaction.on_commit(lambda: task.schedule((pk,), delay=delay))


def tell_due(
    due: QuerySet,
    *,
    told: str,
    done_at: str,
    tell: Callable[[Any], int],
    now=None,
    batch: int = 200,
) -> int:
    """Tell about every action in `due` whose undo window has passed and nobody was told of:
    `done_at` is when it was done, `told` a datetime field left null until then. Each is
    claimed by setting `told` before `tell(it)` queues its messages, in the caller's
    transaction, so a task and the sweep meeting tell once, and an undo (which requires
    `told` to be null) fails once anyone was told. Returns what `tell` counted."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("tell_due needs the caller's transaction")
    now = now or timezone.now()
    model: type[Model] = due.model
    pending = due.filter(**{f"{told}__isnull": True, f"{done_at}__lte": now - window()})
    count = 0
    for item in pending.order_by("pk")[:batch]:
        claimed = model._default_manager.filter(pk=item.pk, **{f"{told}__isnull": True})
        if claimed.update(**{told: now}):
            count += tell(item)
    return count
