"""The conversation: replies, the requester's messages, notes, hand-over and closing."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.accounts.models import User
from krov.aid import notices
from krov.aid.models import (
    HelpRequest,
    Message,
    Note,
    TrustLevel,
    VolunteerProfile,
)
from krov.aid.services import email_notice, keys
from krov.aid.services.access import can_write_case, is_coordinator
from krov.aid.services.base import AidError, CaseClosed, Outcome, RateLimited, Status, check_text
from krov.aid.services.channels import _relay, _system_message, _volunteer_relays
from krov.aid.services.intake import notify_coordinators
from krov.aid.services.match_keys import sync_load
from krov.aid.services.offers import _console_link, _withdraw_offers
from krov.aid.services.triage import requester_may_write
from krov.core import audit, notify, sealing
from krov.core.models import AuditEvent


def _presealed_message(case: HelpRequest, body: str, public_id) -> dict:
    """The fields of a message that arrived sealed to this case's key already (a Telegram
    update, sealed at the webhook after its length was checked)."""
    if not (case.is_sealed and sealing.is_sealed(body)):
        raise AidError(_("This message could not be stored; please send it again."))
    return {"body": body, **({"public_id": public_id} if public_id else {})}


@transaction.atomic
def post_reply(
    case: HelpRequest,
    *,
    actor: User,
    body: str,
    presealed: bool = False,
    public_id=None,
    relay_sealed: dict[str, str] | None = None,
) -> Message:
    """A volunteer answers; the requester sees only the case alias. `presealed`: an answer
    from the volunteer's Telegram, sealed at the webhook to the case's key (`body`, for the
    message `public_id`) and to the workers (`relay_sealed`, for a Telegram requester)."""
    if presealed:
        fields = _presealed_message(case, body, public_id)
    else:
        body = check_text(body, what=gettext_lazy("your answer"))
        fields = {"body": keys.seal_text(case, "message", body)}
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise CaseClosed(_("This case is closed."))
    if not can_write_case(actor, case):
        raise AidError(_("Only the volunteer on this case can answer."))
    now = timezone.now()
    message = Message.objects.create(
        request=case,
        direction=Message.Direction.OUT,
        author=actor,
        author_alias=case.alias,
        created_at=now,
        **fields,
    )
    if presealed:
        message.relay_sealed = relay_sealed
    else:
        message.plaintext = body  # in memory only: a channel relays it on its way out
    updated = ["status", "last_activity_at"]
    if case.first_response_at is None:
        case.first_response_at = now
        updated.append("first_response_at")
    case.status, case.last_activity_at = Status.WAITING, now
    case.save(update_fields=updated)
    _relay(message)
    email_notice.answer_arrived(case)
    return message


@transaction.atomic
def post_requester_message(
    case: HelpRequest,
    *,
    body: str,
    attachment_ref: str = "",
    presealed: bool = False,
    public_id=None,
    relay_sealed: dict[str, str] | None = None,
    relay_sealed_attachment: dict[str, str] | None = None,
) -> Message:
    """A requester writes. `presealed`: the texts arrive sealed to this case's key already
    (a Telegram update, sealed at the webhook after its length was checked), as the message
    `public_id`, and sealed to the workers (`relay_sealed`, and the file's reference in
    `relay_sealed_attachment`) for the volunteer's Telegram."""
    if presealed:
        fields = _presealed_message(case, body, public_id)
        fields["attachment_ref"] = attachment_ref
    else:
        body = check_text(body, what=gettext_lazy("your message"))
        fields = {
            "body": keys.seal_text(case, "message", body),
            "attachment_ref": keys.seal_text(case, "message.attachment", attachment_ref),
        }
    if not requester_may_write(case):
        raise RateLimited(_("Too many messages in the last hour. Please wait a little."))
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if not case.is_open or case.purged_at:
        raise CaseClosed(
            _(
                "This case is closed, so nobody will read a message here. "
                "If you need help again, please send a new request."
            )
        )
    now = timezone.now()
    message = Message.objects.create(
        request=case,
        direction=Message.Direction.IN,
        delivery=Message.Delivery.SENT,
        created_at=now,
        **fields,
    )
    if presealed:
        message.relay_sealed = relay_sealed
        message.relay_sealed_attachment = relay_sealed_attachment
    else:
        message.plaintext = body  # in memory only: a channel relays it on its way out
    updated = ["last_activity_at"]
    if case.status == Status.WAITING:
        case.status = Status.ACTIVE
        updated.append("status")
    case.last_activity_at = now
    case.save(update_fields=updated)
    if case.assignee is not None and not any(send(message) for send in _volunteer_relays):
        notify.notify(case.assignee.user, notices.MESSAGE, link=_console_link())
    return message


def mark_delivery(message_id: int, *, delivered: bool) -> None:
    """A channel reports whether a relayed message arrived (aid owns the Message rows)."""
    status = Message.Delivery.SENT if delivered else Message.Delivery.FAILED
    # A requester's message forwarded to a volunteer's chat has no delivery to report.
    Message.objects.filter(pk=message_id).exclude(direction=Message.Direction.IN).update(
        delivery=status
    )


def mark_seen_by_requester(case: HelpRequest) -> None:
    case.messages.filter(
        direction__in=[Message.Direction.OUT, Message.Direction.SYSTEM],
        delivery=Message.Delivery.SENT,
    ).update(delivery=Message.Delivery.SEEN)


@transaction.atomic
def add_note(case: HelpRequest, *, actor: User, body: str, question: bool = False) -> Note:
    body = check_text(body, what=gettext_lazy("the note"))
    if not (is_coordinator(actor) or can_write_case(actor, case)):
        raise AidError(_("Only the volunteer on this case and coordinators can add notes."))
    note = Note.objects.create(
        request=case,
        kind=Note.Kind.QUESTION if question else Note.Kind.NOTE,
        author=actor,
        body=keys.seal_text(case, "note", body),
    )
    if is_coordinator(actor) and not question:
        # A coordinator writing on the case answers the questions waiting there.
        case.notes.filter(kind=Note.Kind.QUESTION, resolved=False).exclude(pk=note.pk).update(
            resolved=True
        )
    if question:
        notify_coordinators(notices.QUESTION, link=case_link(case))
    return note


def case_link(case: HelpRequest) -> str:
    from django.urls import reverse

    return reverse("aid:case", args=[case.public_id])


@transaction.atomic
def hand_over(case: HelpRequest, *, actor: User, reason: str) -> None:
    """The volunteer gives the case back; coordinators find it in triage with the reason."""
    reason = check_text(reason, what=gettext_lazy("why you hand the case over"))
    if not can_write_case(actor, case) and not is_coordinator(actor):
        raise AidError(_("Only the volunteer on this case can hand it over."))
    _release(case, Note.Kind.QUESTION, reason, author=actor)


def _release(case: HelpRequest, kind: str, why: str, *, author: User | None) -> None:
    if case.assignee_id:
        VolunteerProfile.objects.filter(pk=case.assignee_id, open_cases__gt=0).update(
            open_cases=F("open_cases") - 1
        )
        sync_load(case.assignee_id)
    Note.objects.create(
        request=case, kind=kind, author=author, body=keys.seal_text(case, "note", why)
    )
    keys.withdraw_case_keys(case)
    HelpRequest.objects.filter(pk=case.pk).update(
        status=Status.TRIAGED, assignee=None, alias="", last_activity_at=timezone.now()
    )
    notify_coordinators(notices.RETURNED, link=case_link(case))
    case.refresh_from_db()


@transaction.atomic
def close_case(case: HelpRequest, *, actor: User | None, outcome: str) -> HelpRequest:
    if outcome not in Outcome.values:
        raise AidError(_("Please choose how the case ended."))
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise AidError(_("This case is already closed."))
    if actor is not None and not (is_coordinator(actor) or can_write_case(actor, case)):
        raise AidError(_("Only the volunteer on this case and coordinators can close it."))
    _withdraw_offers(case)
    now = timezone.now()
    case.status, case.outcome, case.closed_at, case.last_activity_at = (
        Status.CLOSED,
        outcome,
        now,
        now,
    )
    case.save(update_fields=["status", "outcome", "closed_at", "last_activity_at"])
    keys.withdraw_case_keys(case)
    email_notice.case_closed(case)
    if case.assignee_id:
        VolunteerProfile.objects.filter(pk=case.assignee_id, open_cases__gt=0).update(
            open_cases=F("open_cases") - 1
        )
        sync_load(case.assignee_id)
        VolunteerProfile.objects.filter(pk=case.assignee_id).update(
            closed_cases=F("closed_cases") + 1
        )
        _end_probation_if_due(case.assignee_id)
    _system_message(
        case,
        gettext_lazy(
            "This case is now closed. If you need help again, you are welcome to send a new "
            "request."
        ),
    )
    return case


def _end_probation_if_due(profile_id: int) -> None:
    profile = VolunteerProfile.objects.select_related("user").get(pk=profile_id)
    if (
        profile.trust == TrustLevel.PROBATION
        and profile.closed_cases >= settings.KROV_PROBATION_CASES
    ):
        VolunteerProfile.objects.filter(pk=profile.pk).update(trust=TrustLevel.REGULAR)
        audit.record(
            AuditEvent.Kind.TRUST_CHANGED,
            subject=profile.user,
            old=TrustLevel.PROBATION,
            new=TrustLevel.REGULAR,
            why="probation completed",
        )
