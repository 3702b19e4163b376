"""An email to a web requester who asked for one: "someone answered you".

The address is something a seized server must not give away, so Krov keeps it only in forms
that no key on the server's disk opens, like a Telegram requester's chat id
(krov.telegram.chat_ids), padded so that its length does not show:

- sealed to the case's key, as the case's contact (`request.contact`); the requester's
  secret link, a coordinator and the key custodian open it;
- sealed to every running worker's in-memory outbox key (`HelpRequest.notice_sealed`),
  so that the worker can write when an answer arrives, with nobody online.

What Krov cannot seal is the mail itself: the mail server it sends through (its account,
its logs, its queue) and the requester's provider see the address and when Krov wrote. So
the email is neutral (it says that something waits, never what or where, and holds no
link; its Message-ID names the sender's domain, not the server), it falls due a random 5 to
30 minutes after the answer (its time does not point at the answer's), at most once every
NOTICE_GAP per case, never once the requester has read the answer, and in the requester's
language. The help form offers it only where mail leaves over SMTP (development's file
backend would keep the address on disk) and says all this.

A worker that restarts takes its key with it. A notice due then is sealed to the running
workers again by the requester's next visit (their link opens the case's key for that one
request), or by a coordinator's open Krov or the key custodian, which hand the case's key to
the running workers as for a waiting Telegram answer (`waiting_notices`, `reseal_notice`).

The address goes when the requester stops the emails, once the case is closed (after a
due email), after MAX_FAILURES refusals of the mail server, and with the purge or /forget.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.mail.message import make_msgid
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.aid.models import HelpRequest, Message
from krov.aid.services.base import AidError
from krov.aid.services.keys import requester_case_key, sealing_ready
from krov.core import sealing

log = logging.getLogger(__name__)


class EmailRefused(AidError):
    """The address given cannot be used: the form says so beside the field."""


# One email per case at most this often: ten answers in an evening make one email.
NOTICE_GAP = timedelta(hours=6)
# An email falls due this long after the answer, at random, so that the mail server's log
# cannot be matched to the answer's time.
JITTER_SECONDS = (5 * 60, 30 * 60)
MAX_ADDRESS = 254
# A sealed address is padded to a multiple of this many bytes: its length says nothing.
PAD = 256
# A mail server that refused: the next try; after MAX_FAILURES in a row the address goes.
RETRY = timedelta(minutes=15)
MAX_FAILURES = 6
# A worker sending an email holds it this long; one that died meanwhile leaves it due again.
CLAIM = timedelta(minutes=10)

SUBJECT = gettext_lazy("Something new is waiting for you")
BODY = gettext_lazy(
    "Someone has answered you.\n\n"
    "Open the page you saved to read it. This email says nothing more, on purpose, and "
    "holds no link.\n\n"
    "To stop these emails, choose “Stop emails” on that page."
)
# Backends that send mail away (SMTP) or keep it in memory (the tests'); never one that
# writes the address to a file or prints it.
SENDING_BACKENDS = {
    "django.core.mail.backends.smtp.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
}


def _workers():
    # The running workers' outbox keys live with the Telegram outbox, which made them first.
    from krov.telegram import outbox_keys

    return outbox_keys


def _info(worker_public: str, case_id: str) -> str:
    """HPKE context: one case's requester address, sealed to one worker's outbox key."""
    return f"krov/v1/requester-email/{worker_public}/{case_id}"


def _contact_info(case: HelpRequest) -> str:
    return sealing.content_info(str(case.public_id), "request.contact")


def _pad(address: str) -> str:
    size = len(address.encode("utf-8"))
    return address + " " * (PAD - size % PAD)


def _unpad(padded: str) -> str:
    return padded.rstrip(" ")


def email_offered() -> bool:
    """Whether the help form offers the email: only where the address can be sealed (a team
    key exists) and mail leaves the server without being written to its disk."""
    return sealing_ready() and settings.EMAIL_BACKEND in SENDING_BACKENDS


def clean_address(address: str) -> str:
    """A plain mailbox at a domain: no quoted parts, control characters, bare host names or
    address literals (nothing a mail server would treat as a command or a local delivery)."""
    address = (address or "").strip()
    if not address:
        return ""
    if len(address) > MAX_ADDRESS:
        raise EmailRefused(_("This email address is too long."))
    refused = EmailRefused(_("Please enter a valid email address, or leave the field empty."))
    if any(ord(char) < 32 or ord(char) == 127 for char in address) or '"' in address:
        raise refused
    domain = address.rpartition("@")[2]
    if "." not in domain or domain.startswith("[") or domain.lower().endswith("localhost"):
        raise refused
    try:
        validate_email(address)
    except ValidationError:
        raise refused from None
    return address


def _seal_for_workers(case: HelpRequest, address: str) -> dict[str, str]:
    case_id = str(case.public_id)
    return {
        public: sealing.seal(_pad(address), public, _info(public, case_id))
        for public in _workers().live_keys()
    }


def keep_address(case: HelpRequest, address: str) -> None:
    """At intake, on a case just sealed: the address as the case's contact (sealed to its
    key) and sealed to the running workers. Refuses a case that is not sealed: the address
    would sit under the field keys, beside the data they protect."""
    if not address:
        return
    if not case.is_sealed:
        raise EmailRefused(
            _(
                "Krov cannot email you yet: leave the email field empty, and keep the link "
                "to your request's page instead."
            )
        )
    case.contact_handle = sealing.seal(_pad(address), case.seal_public, _contact_info(case))
    case.notice_sealed = _seal_for_workers(case, address)
    case.save(update_fields=["contact_handle", "notice_sealed"])


def requester_wants_email(case: HelpRequest) -> bool:
    return case.channel == HelpRequest.Channel.WEB and bool(case.contact_handle)


def answer_arrived(case: HelpRequest) -> None:
    """Someone answered a web requester (inside the answer's transaction): an email falls due
    a random few minutes from now, no sooner than NOTICE_GAP after the last one."""
    if not requester_wants_email(case) or case.notice_due_at is not None:
        return
    now = timezone.now()
    low, high = JITTER_SECONDS
    due = now + timedelta(seconds=low + secrets.randbelow(high - low))
    if case.noticed_at:
        due = max(due, case.noticed_at + NOTICE_GAP)
    HelpRequest.objects.filter(pk=case.pk).update(notice_due_at=due)
    case.notice_due_at = due
    from krov.aid import tasks

    delay = (due - now).total_seconds() + 1
    # A nudge for when it falls due; the minute's sweep sends it if the nudge is lost.
    transaction.on_commit(lambda: tasks.send_requester_notices_now.schedule(delay=delay))


def requester_visited(case: HelpRequest, token: str) -> None:
    """The requester opened their page: nothing waits for an email any more, and an address
    sealed only to workers that are gone is sealed to the running ones again (with the key
    their link opens, in memory, for this request). A closed case's address goes."""
    if not requester_wants_email(case):
        return
    if not case.is_open:
        stop_requester_emails(case)
        return
    changes: dict = {}
    if case.notice_due_at is not None:
        changes["notice_due_at"] = None
    live = set(_workers().live_keys())
    if live - set(case.notice_sealed or {}):  # a worker started since: seal it for that one too
        address = _open_with_key(case, _link_case_key(case, token))
        if address:
            changes["notice_sealed"] = _seal_for_workers(case, address)
    if changes:
        HelpRequest.objects.filter(pk=case.pk).update(**changes)
        for name, value in changes.items():
            setattr(case, name, value)


def _link_case_key(case: HelpRequest, token: str) -> bytes | None:
    try:
        return requester_case_key(case, token)
    except (sealing.SealingError, ValueError):
        return None


def _open_with_key(case: HelpRequest, key: bytes | None) -> str | None:
    if key is None:
        return None
    try:
        return _unpad(sealing.open_sealed(case.contact_handle, key, _contact_info(case)))
    except (sealing.SealingError, ValueError):
        return None


def stop_requester_emails(case: HelpRequest) -> None:
    """The requester wants no more emails (or the case closed): the address goes, and when
    the last email went out is kept only to the day."""
    if case.channel != HelpRequest.Channel.WEB:
        return
    HelpRequest.objects.filter(pk=case.pk).update(
        contact_handle="", notice_sealed={}, notice_handed={}, notice_due_at=None
    )
    case.contact_handle, case.notice_sealed, case.notice_due_at = "", {}, None
    case.notice_handed = {}


def case_closed(case: HelpRequest) -> None:
    """A closed case gets no more answers: its address goes, once a due email is out."""
    if case.notice_due_at is None:
        stop_requester_emails(case)


# --- after a worker restart: a reader hands the case's key to the running workers ---------


def _opened_by(keys: list[str]) -> Q:
    """Cases whose address one of `keys` opens: sealed to it, or a case key handed to it."""
    return Q(notice_sealed__has_any_keys=keys) | Q(notice_handed__keys__has_any_keys=keys)


def _due_web_cases():
    return HelpRequest.objects.filter(
        channel=HelpRequest.Channel.WEB, notice_due_at__isnull=False, purged_at__isnull=True
    )


def waiting_notices() -> list[tuple[int, list[str]]]:
    """For krov.aid's resealers (`relays_waiting`): (the case's latest answer, the running
    workers' keys) for each due email whose address no running worker can open (sealed to
    workers that are gone, no case key handed yet). A reader's browser seals the case's key
    to those workers for that answer, as for a waiting Telegram answer; `reseal_notice`
    keeps it. Two queries, however many wait."""
    live = sorted(_workers().live_keys())
    if not live:
        return []
    latest_answer = (
        Message.objects.filter(request=OuterRef("pk"), direction=Message.Direction.OUT)
        .order_by("-created_at", "-pk")
        .values("pk")[:1]
    )
    due = (
        _due_web_cases()
        .annotate(latest=Subquery(latest_answer))
        .filter(latest__isnull=False)
        .order_by("notice_due_at")[:200]
    )
    # Which keys open it is decided here, not in SQL: a JSON key that is absent makes a
    # negated lookup NULL on PostgreSQL, which would hide the case.
    return [(case.latest, live) for case in due if case.contact_handle and not _opens(case, live)]


def _opens(case: HelpRequest, keys: list[str]) -> bool:
    handed = (case.notice_handed or {}).get("keys", {})
    return bool(set(keys) & (set(case.notice_sealed or {}) | set(handed)))


@transaction.atomic
def reseal_notice(message_pk: int, sealed: dict[str, str]) -> bool:
    """A reader handed the case's key, sealed to running workers for this answer: a worker
    opens the address with it when it sends (and seals it to itself again)."""
    message = Message.objects.filter(pk=message_pk).select_related("request").first()
    if message is None:
        return False
    case = message.request
    live = set(_workers().live_keys())
    keys = {
        public: value
        for public, value in (sealed or {}).items()
        if public in live and isinstance(value, str) and sealing.is_sealed(value)
    }
    if not keys or case.notice_due_at is None or not case.contact_handle:
        return False
    HelpRequest.objects.filter(pk=case.pk).update(
        notice_handed={"message": str(message.public_id), "keys": keys}
    )
    from krov.aid import tasks

    transaction.on_commit(tasks.send_requester_notices_now)
    return True


# --- sending --------------------------------------------------------------------------------


def send_requester_notices(now=None) -> int:
    """In a worker: send every email that is due and whose address this worker can open.
    One it cannot open waits for the requester's next visit or a reader (above). Returns
    how many went out."""
    now = now or timezone.now()
    workers = _workers()
    if workers.runs_tasks_here():
        workers.hold()
    held = sorted(workers.held_publics())
    if not held:
        return 0
    sent = 0
    # Only those this worker can open: stranded ones never hold up the rest.
    due = (
        _due_web_cases()
        .filter(_opened_by(held), notice_due_at__lte=now)
        .order_by("notice_due_at")[:200]
    )
    for case in due:
        if not case.contact_handle:
            HelpRequest.objects.filter(pk=case.pk).update(notice_due_at=None)
            continue
        if _send_one(case, workers, now):
            sent += 1
    return sent


def _address_for_worker(case: HelpRequest, workers) -> str | None:
    case_id = str(case.public_id)
    address = workers.open_for_worker(case.notice_sealed, lambda public: _info(public, case_id))
    if address:
        return _unpad(address)
    handed = case.notice_handed or {}
    message_id = handed.get("message")
    if not isinstance(message_id, str):
        return None
    case_key = workers.open_bytes_for_worker(
        handed.get("keys", {}), lambda public: sealing.outbox_case_key_info(public, message_id)
    )
    address = _open_with_key(case, case_key)
    if address:
        # Sealed to the running workers again: the next email needs no reader.
        HelpRequest.objects.filter(pk=case.pk).update(
            notice_sealed=_seal_for_workers(case, address), notice_handed={}
        )
    return address


def _message(case: HelpRequest, address: str) -> EmailMessage:
    with translation.override(case.language):
        subject, body = str(SUBJECT), str(BODY)
    # Django's Message-ID names this machine (socket.getfqdn()); the sender's domain does not.
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    return EmailMessage(
        subject, body, None, [address], headers={"Message-ID": make_msgid(domain=domain)}
    )


def _send_one(case: HelpRequest, workers, now) -> bool:
    address = _address_for_worker(case, workers)
    if not address:
        return False
    # Claimed first (a lease: a worker that dies before sending leaves it due again), so
    # two workers never send the same email.
    lease = now + CLAIM
    claimed = HelpRequest.objects.filter(pk=case.pk, notice_due_at=case.notice_due_at).update(
        notice_due_at=lease
    )
    if not claimed:
        return False
    try:
        _message(case, address).send(fail_silently=False)
    except Exception as error:  # noqa: BLE001 - any trouble of the mail server's
        _failed(case, lease, now, error)
        return False
    # Sent: no longer due (unless the requester's visit cleared the lease meanwhile), and the
    # last email's time kept to the hour (it only spaces the emails out).
    HelpRequest.objects.filter(pk=case.pk, notice_due_at=lease).update(notice_due_at=None)
    HelpRequest.objects.filter(pk=case.pk).update(
        noticed_at=now.replace(minute=0, second=0, microsecond=0), notice_failures=0
    )
    # The last email of a closed case: its address goes now (read afresh: it may have
    # closed while this one was sent).
    HelpRequest.objects.filter(
        pk=case.pk,
        notice_due_at__isnull=True,
        status__in=[HelpRequest.Status.CLOSED, HelpRequest.Status.SPAM],
    ).update(contact_handle="", notice_sealed={}, notice_handed={})
    return True


def _failed(case: HelpRequest, lease, now, error: Exception) -> None:
    """The mail server refused: due again after RETRY, unless the requester read the answer
    meanwhile. A recipient refused outright, or MAX_FAILURES in a row: the address goes."""
    import smtplib

    failures = case.notice_failures + 1
    permanent = isinstance(error, smtplib.SMTPRecipientsRefused) or (
        isinstance(error, smtplib.SMTPResponseException) and 500 <= error.smtp_code < 600
    )
    # Logged without the address.
    log.warning(
        "an email to a requester could not be sent (%s, try %s)", type(error).__name__, failures
    )
    if permanent or failures >= MAX_FAILURES:
        stop_requester_emails(case)
        return
    HelpRequest.objects.filter(pk=case.pk, notice_due_at=lease).update(
        notice_due_at=now + RETRY, notice_failures=failures
    )
