"""An email to a web requester who asked for one: "someone answered your request".

The address is something a seized server must not give away, so it is kept only in forms
that no key on the server's disk opens, like a Telegram requester's chat id
(krov.telegram.chat_ids):

- sealed to the case's key, as the case's contact (`request.contact`); the requester's
  secret link, a coordinator and the key custodian open it;
- sealed to every running worker's in-memory outbox key (`HelpRequest.notice_sealed`),
  so that the worker can write when an answer arrives, with nobody online.

The email is neutral: it says that something waits, never what was written, and holds no
link (a mail provider keeps what it carries; the requester's link opens their case). It goes
out at most once every NOTICE_GAP per case, never once the requester has read the answer,
and in the requester's language. A worker that restarts takes its key with it: a notice
due then waits until the requester's next visit seals the address to the running workers
again (their link opens the case's key on the server for that one request, as the page
without JavaScript does; docs/threat-model.md).

The requester can stop the emails on their page; the address goes with the case when it is
purged or forgotten.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.aid.models import HelpRequest
from krov.aid.services.base import AidError
from krov.aid.services.keys import requester_case_key, sealing_ready
from krov.core import sealing

log = logging.getLogger(__name__)


class EmailRefused(AidError):
    """The address given cannot be used: the form says so beside the field."""


# One email per case at most this often: ten answers in an evening make one email.
NOTICE_GAP = timedelta(hours=6)
MAX_ADDRESS = 254
# A mail server that refused: the next try.
RETRY = timedelta(minutes=15)

SUBJECT = gettext_lazy("Krov: something new is waiting for you")
BODY = gettext_lazy(
    "Someone has answered your request for help on Krov.\n\n"
    "Open the page you saved when you asked for help to read the answer. This email "
    "says nothing more, on purpose, and holds no link.\n\n"
    "To stop these emails, choose “Stop emails” on that page."
)


def _workers():
    # The running workers' outbox keys live with the Telegram outbox, which made them first.
    from krov.telegram import outbox_keys

    return outbox_keys


def _info(worker_public: str, case_id: str) -> str:
    """HPKE context: one case's requester address, sealed to one worker's outbox key."""
    return f"krov/v1/requester-email/{worker_public}/{case_id}"


def email_offered() -> bool:
    """Whether the help form offers the email: only where the address can be sealed (a team
    key exists), and mail leaves the server (in development, the file backend writes it to
    KROV_DATA_DIR/mail)."""
    if not sealing_ready():
        return False
    return settings.DEBUG or not settings.EMAIL_BACKEND.endswith("filebased.EmailBackend")


def clean_address(address: str) -> str:
    address = (address or "").strip()
    if not address:
        return ""
    if len(address) > MAX_ADDRESS:
        raise EmailRefused(_("This email address is too long."))
    try:
        validate_email(address)
    except ValidationError:
        raise EmailRefused(
            _("Please enter a valid email address, or leave the field empty.")
        ) from None
    return address


def _seal_for_workers(case: HelpRequest, address: str) -> dict[str, str]:
    case_id = str(case.public_id)
    return {
        public: sealing.seal(address, public, _info(public, case_id))
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
    case.contact_handle = sealing.seal(
        address, case.seal_public, sealing.content_info(str(case.public_id), "request.contact")
    )
    case.notice_sealed = _seal_for_workers(case, address)
    case.save(update_fields=["contact_handle", "notice_sealed"])


def requester_wants_email(case: HelpRequest) -> bool:
    return case.channel == HelpRequest.Channel.WEB and bool(case.contact_handle)


def answer_arrived(case: HelpRequest) -> None:
    """Someone answered a web requester (inside the answer's transaction): an email falls due,
    no sooner than NOTICE_GAP after the last one."""
    if not requester_wants_email(case) or case.notice_due_at is not None:
        return
    now = timezone.now()
    due = max(now, case.noticed_at + NOTICE_GAP) if case.noticed_at else now
    HelpRequest.objects.filter(pk=case.pk).update(notice_due_at=due)
    case.notice_due_at = due
    if due <= now:
        from krov.aid import tasks

        transaction.on_commit(tasks.send_requester_notices_now)


def requester_visited(case: HelpRequest, token: str) -> None:
    """The requester opened their page: nothing waits for an email any more, and an address
    sealed only to workers that are gone is sealed to the running ones again (with the key
    their link opens, in memory, for this request)."""
    if not requester_wants_email(case):
        return
    changes: dict = {}
    if case.notice_due_at is not None:
        changes["notice_due_at"] = None
    live = set(_workers().live_keys())
    if live - set(case.notice_sealed or {}):  # a worker started since: seal it for that one too
        address = _open_with_link(case, token)
        if address:
            changes["notice_sealed"] = _seal_for_workers(case, address)
    if changes:
        HelpRequest.objects.filter(pk=case.pk).update(**changes)
        for name, value in changes.items():
            setattr(case, name, value)


def _open_with_link(case: HelpRequest, token: str) -> str | None:
    try:
        key = requester_case_key(case, token)
        if key is None:
            return None
        return sealing.open_sealed(
            case.contact_handle,
            key,
            sealing.content_info(str(case.public_id), "request.contact"),
        )
    except (sealing.SealingError, ValueError):
        return None


def stop_requester_emails(case: HelpRequest) -> None:
    """The requester wants no more emails: the address goes."""
    if case.channel != HelpRequest.Channel.WEB:
        return
    HelpRequest.objects.filter(pk=case.pk).update(
        contact_handle="", notice_sealed={}, notice_due_at=None
    )
    case.contact_handle, case.notice_sealed, case.notice_due_at = "", {}, None


def send_requester_notices(now=None) -> int:
    """In a worker: send every email that is due and whose address this worker can open.
    One it cannot open (sealed only to workers that are gone) waits for the requester's
    next visit. Returns how many went out."""
    now = now or timezone.now()
    workers = _workers()
    if workers.runs_tasks_here():
        workers.hold()
    held = workers.held_publics()
    sent = 0
    due = HelpRequest.objects.filter(
        channel=HelpRequest.Channel.WEB, notice_due_at__lte=now, purged_at__isnull=True
    ).order_by("notice_due_at")[:200]
    for case in due:
        if not case.contact_handle:
            HelpRequest.objects.filter(pk=case.pk).update(notice_due_at=None)
            continue
        if not held.intersection(case.notice_sealed or {}):
            continue
        if _send_one(case, workers, now):
            sent += 1
            if not case.is_open:  # the last answer of a closed case: the address goes now
                stop_requester_emails(case)
    return sent


def case_closed(case: HelpRequest) -> None:
    """A closed case gets no more answers: its address goes, once a due email is out."""
    if case.notice_due_at is None:
        stop_requester_emails(case)


def _send_one(case: HelpRequest, workers, now) -> bool:
    case_id = str(case.public_id)
    address = workers.open_for_worker(case.notice_sealed, lambda public: _info(public, case_id))
    if not address:
        return False
    # Claimed first, so two workers never send the same email.
    claimed = HelpRequest.objects.filter(pk=case.pk, notice_due_at=case.notice_due_at).update(
        notice_due_at=None, noticed_at=now
    )
    if not claimed:
        return False
    with translation.override(case.language):
        subject, body = str(SUBJECT), str(BODY)
    try:
        send_mail(subject, body, None, [address], fail_silently=False)
    except Exception:  # noqa: BLE001 - any trouble of the mail server's: try again later
        # Logged without the address; due again unless the requester reads it meanwhile.
        log.warning("an email to a requester could not be sent; trying again later")
        HelpRequest.objects.filter(pk=case.pk, notice_due_at__isnull=True).update(
            notice_due_at=now + RETRY, noticed_at=case.noticed_at
        )
        return False
    return True
