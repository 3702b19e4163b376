"""Mutual aid: every rule about help requests, cases, offers, the relay and retention.

Channel-neutral: the web views and the Telegram dialogue call these functions; neither
saves an aid model itself. Functions that act for a person take a keyword-only `actor`.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.accounts.models import User
from krov.aid import matching
from krov.aid.models import (
    AID_LANGUAGES,
    HelpRequest,
    Message,
    Note,
    Offer,
    Sensitivity,
    Skill,
    TrustLevel,
    VolunteerProfile,
)
from krov.core import audit, notify, ratelimit
from krov.core.models import AuditEvent

Status = HelpRequest.Status
Outcome = HelpRequest.Outcome

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
ALIAS_WORDS = [
    "Lark",
    "Birch",
    "Linden",
    "Heron",
    "Maple",
    "Otter",
    "Swift",
    "Aspen",
    "Rowan",
    "Wren",
    "Finch",
    "Willow",
    "Cedar",
    "Robin",
    "Hazel",
    "Falcon",
    "Clover",
    "Fern",
    "Sparrow",
    "Juniper",
    "Elm",
    "Kestrel",
    "Poplar",
    "Thrush",
    "Alder",
]


# Sent inside the purge of a case, before its id changes; apps that link to cases (the
# Telegram chat of the requester) drop their links. Argument: case.
case_purged = Signal()


class AidError(Exception):
    """A request the desk cannot carry out; the message is for people."""


class CaseClosed(AidError):
    """Someone wrote to a case that is closed."""


class RateLimited(AidError):
    """Too much, too fast; the message says when to try again."""


@dataclass
class Submitted:
    request: HelpRequest
    token: str
    created: bool


# --- keys, codes and tokens -------------------------------------------------------------


def keyed_hash(purpose: str, value: str) -> str:
    return salted_hmac(f"krov.aid.{purpose}", value, algorithm="sha256").hexdigest()


def _new_code() -> str:
    return "K-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))


def _new_alias() -> str:
    return f"{secrets.choice(ALIAS_WORDS)}-{secrets.randbelow(90) + 10}"


def serving_language(code: str | None) -> str:
    """The desk language for `code`: itself if served, Serbian for sr-latn, else English."""
    code = (code or "").lower().replace("_", "-")
    if code.startswith("sr"):
        return "sr"
    code = code.split("-")[0]
    return code if code in AID_LANGUAGES else "en"


def check_text(text: str, *, what: str | Promise) -> str:
    text = (text or "").strip()
    if not text:
        raise AidError(_("Please write %(what)s.") % {"what": what})
    if len(text) > settings.KROV_AID_MAX_TEXT:
        raise AidError(
            _("Please keep it under %(limit)s characters (you wrote %(length)s).")
            % {"limit": settings.KROV_AID_MAX_TEXT, "length": len(text)}
        )
    return text


def intake_allowed(client_address: str) -> bool:
    """Count one web submission for this client; False once the hourly limit is reached.

    Counted under a key that changes every hour and expires with it (krov.core.ratelimit).
    """
    return ratelimit.for_address(
        "aid-intake", client_address, limit=settings.KROV_INTAKE_PER_HOUR, window=3600
    )


# --- intake -------------------------------------------------------------------------------


def submit_request(
    *,
    channel: str,
    language: str | None,
    skill: Skill,
    description: str,
    urgency: int = HelpRequest.Urgency.NORMAL,
    region: str = "",
    contact_handle: str = "",
    submission_key: str = "",
) -> Submitted:
    """Store a help request. The same `submission_key` twice gives the first request back,
    with the same secret link (the link is derived from the key and never stored)."""
    description = check_text(description, what=gettext_lazy("what you need"))
    if len(region) > 200:
        raise AidError(_("Please keep the region short (200 characters at most)."))
    if urgency not in HelpRequest.Urgency.values:
        urgency = HelpRequest.Urgency.NORMAL
    if submission_key:
        token = keyed_hash("token-from-submission", submission_key)[:43]
        submission_hash = keyed_hash("submission", submission_key)
        existing = HelpRequest.objects.filter(submission_hash=submission_hash).first()
        if existing is not None:
            return Submitted(existing, token, created=False)
    else:
        token, submission_hash = secrets.token_urlsafe(32), None
    for _attempt in range(5):
        try:
            with transaction.atomic():
                request = HelpRequest.objects.create(
                    code=_new_code(),
                    token_hash=keyed_hash("token", token),
                    submission_hash=submission_hash,
                    channel=channel,
                    language=serving_language(language),
                    skill=skill,
                    urgency=urgency,
                    description=description,
                    region=region.strip(),
                    contact_handle=contact_handle,
                    contact_lookup=keyed_hash("contact", contact_handle) if contact_handle else "",
                )
                transaction.on_commit(partial(_tell_coordinators_new, request.pk))
            return Submitted(request, token, created=True)
        except IntegrityError:
            if submission_hash:
                existing = HelpRequest.objects.filter(submission_hash=submission_hash).first()
                if existing is not None:  # a concurrent double submit won the race
                    return Submitted(existing, token, created=False)
            # otherwise a code collision: try another code
    raise AidError(_("The request could not be stored; please try again."))


def _tell_coordinators_new(request_id: int) -> None:
    from krov.aid import tasks

    tasks.tell_coordinators_new_request(request_id)


def coordinators():
    return User.objects.filter(is_active=True, groups__name=roles.COORDINATOR).distinct()


def notify_coordinators(kind: str, *, subject: str, body: str, link: str = "") -> None:
    for user in coordinators():
        notify.notify(user, kind, subject=subject, body=body, link=link)


def case_for_token(token: str) -> HelpRequest | None:
    """The case a requester's secret link opens, or None (missing, wrong or purged)."""
    if not token or len(token) > 100:
        return None
    wanted = keyed_hash("token", token)
    case = HelpRequest.objects.filter(token_hash=wanted).select_related("skill").first()
    if case is None or not hmac.compare_digest(case.token_hash or "", wanted):
        return None
    # A request merged into another follows its target, so the requester keeps talking.
    seen = {case.pk}
    while case.duplicate_of_id and case.duplicate_of_id not in seen:
        target = HelpRequest.objects.select_related("skill").get(pk=case.duplicate_of_id)
        if target.purged_at:
            break
        seen.add(target.pk)
        case = target
    return case


# --- permissions --------------------------------------------------------------------------


def is_coordinator(user) -> bool:
    return user.is_authenticated and user.has_perm("accounts.triage_help_requests")


def profile_of(user) -> VolunteerProfile | None:
    if not user.is_authenticated or not user.has_perm("accounts.answer_help_requests"):
        return None
    return VolunteerProfile.objects.filter(user=user).first()


def can_view_case(user, case: HelpRequest) -> bool:
    if is_coordinator(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return False
    if case.assignee_id == profile.pk:
        return True
    return case.offers.filter(volunteer=profile, status=Offer.Status.PENDING).exists()


def can_write_case(user, case: HelpRequest) -> bool:
    profile = profile_of(user)
    return profile is not None and case.assignee_id == profile.pk and case.is_open


def get_case_for_user(user, public_id) -> HelpRequest | None:
    """The case if `user` may open it (the opening is audited), else None: callers answer
    404 for "missing" and "forbidden" alike."""
    case = HelpRequest.objects.filter(public_id=public_id).select_related("skill").first()
    if case is None or not can_view_case(user, case):
        return None
    audit.record(AuditEvent.Kind.CASE_ACCESSED, actor=user, target=f"case:{case.public_id}")
    return case


def access_log(case: HelpRequest):
    return AuditEvent.objects.filter(
        kind=AuditEvent.Kind.CASE_ACCESSED, target=f"case:{case.public_id}"
    )[:200]


def _require_coordinator(actor) -> None:
    if not is_coordinator(actor):
        raise AidError(_("Only coordinators can do this."))


# --- triage -------------------------------------------------------------------------------


@transaction.atomic
def triage(
    case: HelpRequest,
    *,
    actor: User,
    skill: Skill | None = None,
    urgency: int | None = None,
    sensitivity: int | None = None,
) -> HelpRequest:
    _require_coordinator(actor)
    if not case.is_open:
        raise AidError(_("This request is closed."))
    fields = ["last_activity_at"]
    if skill is not None:
        case.skill = skill
        fields.append("skill")
    if urgency is not None:
        case.urgency = urgency
        fields.append("urgency")
    if sensitivity is not None:
        case.sensitivity = sensitivity
        fields.append("sensitivity")
    if case.status == Status.NEW:
        case.status = Status.TRIAGED
        case.triaged_at = timezone.now()
        fields += ["status", "triaged_at"]
    case.last_activity_at = timezone.now()
    case.save(update_fields=fields)
    return case


@transaction.atomic
def mark_spam(case: HelpRequest, *, actor: User) -> None:
    _require_coordinator(actor)
    if case.status in {Status.ACTIVE, Status.WAITING}:
        raise AidError(_("A case a volunteer is working on cannot be marked as spam."))
    _withdraw_offers(case)
    HelpRequest.objects.filter(pk=case.pk).update(
        status=Status.SPAM, closed_at=timezone.now(), last_activity_at=timezone.now()
    )
    case.refresh_from_db()


@transaction.atomic
def merge(duplicate: HelpRequest, into: HelpRequest, *, actor: User) -> None:
    """Close `duplicate` into `into`: its text joins the conversation, its link follows."""
    _require_coordinator(actor)
    if duplicate.pk == into.pk:
        raise AidError(_("A request cannot be merged into itself."))
    if not duplicate.is_open or not into.is_open:
        raise AidError(_("Only open requests can be merged."))
    if duplicate.assignee_id:
        raise AidError(_("Hand the duplicate over first; it has a volunteer."))
    _withdraw_offers(duplicate)
    Message.objects.create(
        request=into,
        direction=Message.Direction.IN,
        body=duplicate.description,
        delivery=Message.Delivery.SENT,
        created_at=duplicate.created_at,
    )
    Message.objects.filter(request=duplicate).update(request=into)
    Note.objects.create(
        request=into,
        kind=Note.Kind.SYSTEM,
        author=actor,
        body=_("Merged with %(code)s.") % {"code": duplicate.code},
    )
    now = timezone.now()
    HelpRequest.objects.filter(pk=duplicate.pk).update(
        status=Status.CLOSED,
        outcome=Outcome.DUPLICATE,
        duplicate_of=into,
        closed_at=now,
        last_activity_at=now,
    )
    HelpRequest.objects.filter(pk=into.pk).update(last_activity_at=now)


def open_questions():
    """Volunteers' questions no coordinator has answered yet, oldest first."""
    return (
        Note.objects.filter(kind=Note.Kind.QUESTION, resolved=False)
        .exclude(request__status__in=[Status.CLOSED, Status.SPAM])
        .select_related("request", "request__skill", "author")
        .order_by("created_at")
    )


def requester_may_write(case: HelpRequest) -> bool:
    """At most 30 messages an hour through one secret link: a leaked link cannot flood."""
    return ratelimit.hit("aid-requester", str(case.pk), limit=30, window=3600)


def triage_queue(
    *,
    language: str = "",
    skill: Skill | None = None,
    urgency: int | None = None,
    older_than_hours: int | None = None,
    statuses=(Status.NEW, Status.TRIAGED, Status.OFFERED),
):
    queryset = HelpRequest.objects.filter(status__in=statuses).select_related("skill")
    if language:
        queryset = queryset.filter(language=language)
    if skill is not None:
        queryset = queryset.filter(skill=skill)
    if urgency is not None:
        queryset = queryset.filter(urgency=urgency)
    if older_than_hours:
        queryset = queryset.filter(
            created_at__lte=timezone.now() - timedelta(hours=older_than_hours)
        )
    return queryset.order_by("-urgency", "created_at")


# --- offers and assignment -------------------------------------------------------------


def _withdraw_offers(case: HelpRequest, *, except_offer: Offer | None = None) -> None:
    pending = Offer.objects.filter(request=case, status=Offer.Status.PENDING)
    if except_offer is not None:
        pending = pending.exclude(pk=except_offer.pk)
    pending.update(status=Offer.Status.WITHDRAWN, answered_at=timezone.now())


@transaction.atomic
def offer(
    case: HelpRequest, *, actor: User | None, volunteer: VolunteerProfile | None = None
) -> Offer | None:
    """Offer `case` to `volunteer`, or to the best match not yet asked. Returns the offer,
    or None when nobody is left (the case goes back to triage with a note)."""
    if actor is not None:
        _require_coordinator(actor)
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if case.status not in {Status.NEW, Status.TRIAGED, Status.OFFERED}:
        raise AidError(_("Only a request waiting for a volunteer can be offered."))
    explanation, rank = "", 1
    if volunteer is None:
        ranked = matching.rank(case, limit=1)
        if not ranked:
            _back_to_triage(case, _("No volunteer is left to offer this request to."))
            return None
        volunteer, explanation = ranked[0].volunteer, ranked[0].explanation
    elif not _may_take(volunteer, case):
        raise AidError(_("This volunteer cannot take this case (trust, capacity or pause)."))
    rank = Offer.objects.filter(request=case).count() + 1
    now = timezone.now()
    made = Offer.objects.create(
        request=case,
        volunteer=volunteer,
        rank=rank,
        explanation=explanation[:200],
        offered_by=actor,
        offered_at=now,
        expires_at=now + timedelta(minutes=settings.KROV_OFFER_MINUTES),
    )
    fields = ["status", "last_activity_at"]
    if case.triaged_at is None:
        case.triaged_at = now
        fields.append("triaged_at")
    case.status, case.last_activity_at = Status.OFFERED, now
    case.save(update_fields=fields)
    notify.notify(
        volunteer.user,
        "aid_offer",
        subject=_("Krov: something new is waiting for you"),
        body=_("A request for help may suit you. Please open your console to answer it."),
        link=_console_link(),
        ref=f"offer:{made.public_id}",
    )
    return made


def _console_link() -> str:
    from django.urls import reverse

    return reverse("aid:console")


def _may_take(volunteer: VolunteerProfile, case: HelpRequest) -> bool:
    if volunteer.paused or not volunteer.user.is_active:
        return False
    if not volunteer.user.has_perm("accounts.answer_help_requests"):
        return False
    if not account_services.has_mfa(volunteer.user):
        return False  # every path to case content needs a second factor
    if volunteer.trust == TrustLevel.PROBATION and case.sensitivity > Sensitivity.LOW:
        return False
    return volunteer.open_cases < volunteer.max_cases


def _back_to_triage(case: HelpRequest, why: str) -> None:
    HelpRequest.objects.filter(pk=case.pk).update(
        status=Status.TRIAGED, assignee=None, alias="", last_activity_at=timezone.now()
    )
    Note.objects.create(request=case, kind=Note.Kind.SYSTEM, body=why)
    case.refresh_from_db()


def _take(case: HelpRequest, volunteer: VolunteerProfile, *, from_statuses) -> bool:
    """Make `volunteer` the assignee if nobody else got there first (one conditional
    UPDATE: of two concurrent claims exactly one matches a row)."""
    won = HelpRequest.objects.filter(
        pk=case.pk, assignee__isnull=True, status__in=from_statuses
    ).update(
        assignee=volunteer,
        alias=_new_alias(),
        status=Status.ACTIVE,
        last_activity_at=timezone.now(),
    )
    if not won:
        return False
    took_slot = VolunteerProfile.objects.filter(
        pk=volunteer.pk, open_cases__lt=F("max_cases")
    ).update(open_cases=F("open_cases") + 1)
    if not took_slot:
        raise AidError(_("You already have as many cases as you said you can take."))
    return True


def accept_offer(offer_obj: Offer, *, actor: User) -> HelpRequest:
    with transaction.atomic():
        profile = profile_of(actor)
        if profile is None or offer_obj.volunteer_id != profile.pk:
            raise AidError(_("This offer is not yours."))
        # Lock the case first: every writer of a case's offers takes this lock before the
        # offer rows, so two claims queue up instead of deadlocking.
        case = _lock_case(offer_obj.request_id)
        now = timezone.now()
        claimed = Offer.objects.filter(
            pk=offer_obj.pk, status=Offer.Status.PENDING, expires_at__gt=now
        ).update(status=Offer.Status.ACCEPTED, answered_at=now)
        if not claimed:
            raise AidError(_("This offer is no longer open."))
        if not _take(case, profile, from_statuses=[Status.OFFERED, Status.TRIAGED, Status.NEW]):
            raise AidError(_("Another volunteer has already taken this case."))
        _withdraw_offers(case, except_offer=offer_obj)
        seconds = int((now - offer_obj.offered_at).total_seconds())
        previous = profile.response_seconds
        average = seconds if previous is None else (previous * 3 + seconds) // 4
        VolunteerProfile.objects.filter(pk=profile.pk).update(response_seconds=average)
        _system_message(
            case, gettext_lazy("A Krov volunteer has taken your request and will write soon.")
        )
    case.refresh_from_db()
    return case


def _lock_case(request_id: int) -> HelpRequest:
    """Every change to a case's offers locks the case row first (see accept_offer)."""
    return HelpRequest.objects.select_for_update().get(pk=request_id)


def decline_offer(offer_obj: Offer, *, actor: User) -> None:
    profile = profile_of(actor)
    if profile is None or offer_obj.volunteer_id != profile.pk:
        raise AidError(_("This offer is not yours."))
    with transaction.atomic():
        _lock_case(offer_obj.request_id)
        declined = Offer.objects.filter(pk=offer_obj.pk, status=Offer.Status.PENDING).update(
            status=Offer.Status.DECLINED, answered_at=timezone.now()
        )
        if declined:
            offer_next(offer_obj.request_id)


def offer_next(request_id: int) -> Offer | None:
    """After a decline or an expiry: offer to the next match if nobody holds an offer."""
    case = HelpRequest.objects.get(pk=request_id)
    if case.status != Status.OFFERED:
        return None
    if case.offers.filter(status=Offer.Status.PENDING).exists():
        return None
    return offer(case, actor=None)


def expire_offers(now: datetime | None = None) -> int:
    """Expire offers past their time and move each request on; safe to run concurrently."""
    now = now or timezone.now()
    expired_ids = list(
        Offer.objects.filter(status=Offer.Status.PENDING, expires_at__lte=now).values_list(
            "pk", "request_id"
        )
    )
    count = 0
    for offer_id, request_id in expired_ids:
        with transaction.atomic():
            _lock_case(request_id)
            if Offer.objects.filter(pk=offer_id, status=Offer.Status.PENDING).update(
                status=Offer.Status.EXPIRED, answered_at=now
            ):
                count += 1
                offer_next(request_id)
    return count


def assign(case: HelpRequest, volunteer: VolunteerProfile, *, actor: User) -> HelpRequest:
    """A coordinator gives the case to a volunteer directly."""
    _require_coordinator(actor)
    with transaction.atomic():
        if not _may_take(volunteer, case):
            raise AidError(_("This volunteer cannot take this case (trust, capacity or pause)."))
        if not _take(case, volunteer, from_statuses=[Status.NEW, Status.TRIAGED, Status.OFFERED]):
            raise AidError(_("This case already has a volunteer."))
        _withdraw_offers(case)
        case.refresh_from_db()
        notify.notify(
            volunteer.user,
            "aid_assigned",
            subject=_("Krov: something new is waiting for you"),
            body=_("A coordinator has given you a case. Please open your console."),
            link=_console_link(),
        )
        _system_message(
            case, gettext_lazy("A Krov volunteer has taken your request and will write soon.")
        )
    return case


# --- the conversation (relay) -------------------------------------------------------------

# channel name -> function(message) that sends it to the requester. The Telegram app
# registers its own; the web channel shows messages on the requester's page.
_relays: dict[str, Callable[[Message], None]] = {}


def register_relay(channel: str, send: Callable[[Message], None]) -> None:
    _relays[channel] = send


# Functions that bring a requester's message to the case's volunteer in their own chat;
# each returns True when it took the message (then no email nudge is needed).
_volunteer_relays: list[Callable[[Message], bool]] = []


def register_volunteer_relay(send: Callable[[Message], bool]) -> None:
    if send not in _volunteer_relays:
        _volunteer_relays.append(send)


def _relay(message: Message) -> None:
    case = message.request
    if case.channel == HelpRequest.Channel.WEB:
        Message.objects.filter(pk=message.pk).update(delivery=Message.Delivery.SENT)
        return
    send = _relays.get(case.channel)
    if send is None:  # stays queued until the channel's app delivers it
        return
    send(message)  # the channel queues it in this same transaction: nothing is lost


def _system_message(case: HelpRequest, text: str | Promise) -> Message:
    """A notice to the requester, in the requester's language (pass a lazy string)."""
    with translation.override(case.language):
        body = str(text)
    message = Message.objects.create(
        request=case, direction=Message.Direction.SYSTEM, author_alias="Krov", body=body
    )
    _relay(message)
    return message


@transaction.atomic
def post_reply(case: HelpRequest, *, actor: User, body: str) -> Message:
    """A volunteer answers; the requester sees only the case alias."""
    body = check_text(body, what=gettext_lazy("your answer"))
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
        body=body,
        created_at=now,
    )
    fields = ["status", "last_activity_at"]
    if case.first_response_at is None:
        case.first_response_at = now
        fields.append("first_response_at")
    case.status, case.last_activity_at = Status.WAITING, now
    case.save(update_fields=fields)
    _relay(message)
    return message


@transaction.atomic
def post_requester_message(case: HelpRequest, *, body: str, attachment_ref: str = "") -> Message:
    body = check_text(body, what=gettext_lazy("your message"))
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
        body=body,
        attachment_ref=attachment_ref,
        delivery=Message.Delivery.SENT,
        created_at=now,
    )
    fields = ["last_activity_at"]
    if case.status == Status.WAITING:
        case.status = Status.ACTIVE
        fields.append("status")
    case.last_activity_at = now
    case.save(update_fields=fields)
    if case.assignee is not None and not any(send(message) for send in _volunteer_relays):
        notify.notify(
            case.assignee.user,
            "aid_message",
            subject=_("Krov: something new is waiting for you"),
            body=_("There is a new message in one of your cases."),
            link=_console_link(),
        )
    return message


def mark_delivery(message_id: int, *, delivered: bool) -> None:
    """A channel reports whether a relayed message arrived (aid owns the Message rows)."""
    status = Message.Delivery.SENT if delivered else Message.Delivery.FAILED
    Message.objects.filter(pk=message_id).update(delivery=status)


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
        body=body,
    )
    if is_coordinator(actor) and not question:
        # A coordinator writing on the case answers the questions waiting there.
        case.notes.filter(kind=Note.Kind.QUESTION, resolved=False).exclude(pk=note.pk).update(
            resolved=True
        )
    if question:
        notify_coordinators(
            "aid_question",
            subject=_("Krov: a volunteer asks the coordinators"),
            body=_("A volunteer has a question about one of their cases."),
            link=_case_link(case),
        )
    return note


def _case_link(case: HelpRequest) -> str:
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
    Note.objects.create(request=case, kind=kind, author=author, body=why)
    HelpRequest.objects.filter(pk=case.pk).update(
        status=Status.TRIAGED, assignee=None, alias="", last_activity_at=timezone.now()
    )
    notify_coordinators(
        "aid_returned",
        subject=_("Krov: a case needs a new volunteer"),
        body=_("A case has come back to triage and needs a new volunteer."),
        link=_case_link(case),
    )
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
    if case.assignee_id:
        VolunteerProfile.objects.filter(pk=case.assignee_id, open_cases__gt=0).update(
            open_cases=F("open_cases") - 1
        )
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


# --- volunteers -----------------------------------------------------------------------------


@transaction.atomic
def vouch_for(user: User, *, actor: User, languages: list[str]) -> VolunteerProfile:
    """A coordinator makes `user` a volunteer on their word; they start on probation."""
    _require_coordinator(actor)
    if not user.is_active:
        raise AidError(_("This account is locked."))
    profile, created = VolunteerProfile.objects.get_or_create(
        user=user,
        defaults={
            "languages": [code for code in languages if code in AID_LANGUAGES],
            "vouched_by": actor,
            "vouched_at": timezone.now(),
        },
    )
    if not created and profile.vouched_by_id is None:
        profile.vouched_by, profile.vouched_at = actor, timezone.now()
        profile.save(update_fields=["vouched_by", "vouched_at"])
    current = account_services.user_roles(user)
    if roles.VOLUNTEER not in current and roles.COORDINATOR not in current:
        # The coordinator's vouch is the second person's word that a grant needs.
        account_services.set_roles(
            user, current | {roles.VOLUNTEER}, actor=actor, confirmed_by=actor
        )
    audit.record(AuditEvent.Kind.VOLUNTEER_VOUCHED, actor=actor, subject=user)
    return profile


@transaction.atomic
def set_trust(profile: VolunteerProfile, level: int, *, actor: User) -> None:
    _require_coordinator(actor)
    if level not in TrustLevel.values:
        raise AidError(_("Unknown trust level."))
    old = profile.trust
    VolunteerProfile.objects.filter(pk=profile.pk).update(trust=level)
    profile.trust = level
    audit.record(
        AuditEvent.Kind.TRUST_CHANGED, actor=actor, subject=profile.user, old=old, new=level
    )


def ensure_profile(user: User) -> VolunteerProfile:
    """The profile of someone who holds the volunteer role (made on first use)."""
    profile, _created = VolunteerProfile.objects.get_or_create(user=user)
    return profile


@transaction.atomic
def update_profile(
    profile: VolunteerProfile,
    *,
    actor: User,
    languages: list[str],
    max_cases: int,
    time_zone: str,
    paused: bool,
    skills: dict[int, int],
    windows: list[tuple[int, time, time]],
) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from krov.aid.models import AvailabilityWindow, VolunteerSkill

    if profile.user_id != actor.pk:
        raise AidError(_("You can only change your own profile."))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AidError(_("Unknown time zone.")) from None
    profile.languages = [code for code in languages if code in AID_LANGUAGES]
    profile.max_cases = max(1, min(20, max_cases))
    profile.time_zone = time_zone
    profile.paused = paused
    profile.save(update_fields=["languages", "max_cases", "time_zone", "paused"])
    VolunteerSkill.objects.filter(volunteer=profile).exclude(skill_id__in=skills).delete()
    for skill_id, level in skills.items():
        VolunteerSkill.objects.update_or_create(
            volunteer=profile, skill_id=skill_id, defaults={"level": max(1, min(3, level))}
        )
    AvailabilityWindow.objects.filter(volunteer=profile).delete()
    AvailabilityWindow.objects.bulk_create(
        AvailabilityWindow(volunteer=profile, weekday=day, start=start, end=end)
        for day, start, end in windows
    )


def start_shift(profile: VolunteerProfile, *, actor: User, hours: int) -> None:
    from krov.aid.models import Shift

    if profile.user_id != actor.pk:
        raise AidError(_("You can only declare your own shifts."))
    if not 1 <= hours <= 12:
        raise AidError(_("A shift lasts between 1 and 12 hours."))
    now = timezone.now()
    Shift.objects.filter(volunteer=profile, ends_at__gt=now).update(ends_at=now)
    Shift.objects.create(volunteer=profile, starts_at=now, ends_at=now + timedelta(hours=hours))


def end_shift(profile: VolunteerProfile, *, actor: User) -> None:
    from krov.aid.models import Shift

    if profile.user_id != actor.pk:
        raise AidError(_("You can only end your own shifts."))
    Shift.objects.filter(volunteer=profile, ends_at__gt=timezone.now()).update(
        ends_at=timezone.now()
    )


@transaction.atomic
def release_after_panic(user: User) -> int:
    """Panic: the account's open cases go back to triage, its offers are withdrawn."""
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        return 0
    Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, answered_at=timezone.now()
    )
    VolunteerProfile.objects.filter(pk=profile.pk).update(paused=True)
    cases = list(HelpRequest.objects.filter(assignee=profile).open())
    for case in cases:
        _release(
            case,
            Note.Kind.SYSTEM,
            _(
                "The volunteer on this case pressed panic; their account is locked. "
                "Please find a new volunteer and do not contact the previous one."
            ),
            author=None,
        )
    return len(cases)


@transaction.atomic
def pause_without_second_factor(user: User) -> None:
    """The last second factor is gone: no new offers; pending ones go to the next volunteer.

    Open cases stay theirs (the web desk lets them back in once a factor is added again);
    coordinators see them in the unanswered list meanwhile.
    """
    profile = VolunteerProfile.objects.filter(user=user).first()
    if profile is None:
        return
    VolunteerProfile.objects.filter(pk=profile.pk).update(paused=True)
    pending = list(
        Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).values_list(
            "request_id", flat=True
        )
    )
    Offer.objects.filter(volunteer=profile, status=Offer.Status.PENDING).update(
        status=Offer.Status.WITHDRAWN, answered_at=timezone.now()
    )
    for request_id in pending:
        transaction.on_commit(partial(offer_next, request_id))


# --- retention ------------------------------------------------------------------------------


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def _coarse(moment: datetime | None, created: datetime, week: datetime) -> datetime | None:
    """`moment` moved with the case's start to its week, its distance rounded to the hour:
    the figures keep their durations, the record loses its dates."""
    if moment is None:
        return None
    hours = round((moment - created).total_seconds() / 3600)
    return week + timedelta(hours=max(0, hours))


def _purge_one(case: HelpRequest, *, now: datetime) -> None:
    """Remove everything about a case but an anonymous record, and every link to it.

    The case gets a new public id and code, so audit rows, notifications and anything a
    phone still shows ("K-…") point at nothing; its dates are coarsened to the week.
    """
    case = HelpRequest.objects.get(pk=case.pk)
    offers = Offer.objects.filter(request=case).values_list("public_id", flat=True)
    offer_ids = [str(public_id) for public_id in offers]
    notify.forget_references([str(case.public_id), *offer_ids])
    contact_in_use = bool(case.contact_lookup) and (
        HelpRequest.objects.filter(contact_lookup=case.contact_lookup, purged_at__isnull=True)
        .exclude(pk=case.pk)
        .exists()
    )
    # First, while the messages still exist: channels drop what they queued or sent for them.
    case_purged.send(sender=HelpRequest, case=case, contact_in_use=contact_in_use)
    Message.objects.filter(request=case).delete()
    Note.objects.filter(request=case).delete()
    Offer.objects.filter(request=case).delete()
    week = _week_start(case.created_at)
    HelpRequest.objects.filter(pk=case.pk).update(
        public_id=uuid.uuid4(),
        code=_new_code(),
        description="",
        region="",
        contact_handle="",
        contact_lookup="",
        token_hash=None,
        submission_hash=None,
        assignee=None,
        duplicate_of=None,
        alias="",
        created_at=week,
        triaged_at=_coarse(case.triaged_at, case.created_at, week),
        first_response_at=_coarse(case.first_response_at, case.created_at, week),
        last_activity_at=_coarse(case.last_activity_at, case.created_at, week),
        closed_at=_coarse(case.closed_at, case.created_at, week),
        purged_at=_week_start(now),
    )


def purge(now: datetime | None = None) -> dict[str, int]:
    """Apply retention: closed cases after KROV_RETENTION_DAYS, spam after
    KROV_SPAM_RETENTION_DAYS. Returns how many of each were purged."""
    now = now or timezone.now()
    closed_cutoff = now - timedelta(days=settings.KROV_RETENTION_DAYS)
    spam_cutoff = now - timedelta(days=settings.KROV_SPAM_RETENTION_DAYS)
    due = HelpRequest.objects.filter(purged_at__isnull=True).filter(
        Q(status=Status.CLOSED, closed_at__lte=closed_cutoff)
        | Q(status=Status.SPAM, last_activity_at__lte=spam_cutoff)
    )
    counts = {"closed": 0, "spam": 0}
    for case in due.only("pk", "status").iterator():
        with transaction.atomic():
            _purge_one(case, now=now)
        counts["spam" if case.status == Status.SPAM else "closed"] += 1
    if counts["closed"] or counts["spam"]:
        audit.record(AuditEvent.Kind.DATA_PURGED, closed=counts["closed"], spam=counts["spam"])
    return counts


@transaction.atomic
def forget(case: HelpRequest) -> None:
    """The requester asks for deletion: close the case and purge it now."""
    case = HelpRequest.objects.select_for_update().get(pk=case.pk)
    if case.is_open:
        close_case(case, actor=None, outcome=Outcome.REQUESTER_GONE)
        case.refresh_from_db()
    now = timezone.now()
    # Requests merged into this one were the same person's: they go too.
    for duplicate in HelpRequest.objects.filter(duplicate_of=case, purged_at__isnull=True):
        _purge_one(duplicate, now=now)
    _purge_one(case, now=now)
    audit.record(AuditEvent.Kind.DATA_PURGED, by="requester")  # no case id: it is gone


# --- the catalogue: skills and canned replies ---------------------------------------------


@transaction.atomic
def save_skill(
    *, actor: User, slug: str, name: str, active: bool = True, skill: Skill | None = None
) -> Skill:
    """Add a skill, or rename / switch off an existing one (skills are never deleted:
    the anonymous records still count by them)."""
    from django.utils.text import slugify

    _require_coordinator(actor)
    name = name.strip()
    if len(name) > 80:
        raise AidError(_("A skill name has at most 80 characters."))
    if skill is None:
        slug = slugify(slug or name)[:40]
        if not slug:
            raise AidError(_("Please give the new skill a name."))
        if Skill.objects.filter(slug=slug).exists():
            raise AidError(_("A skill with this short name exists already."))
        return Skill.objects.create(slug=slug, name=name, active=active, position=500)
    skill.name, skill.active = name, active
    skill.save(update_fields=["name", "active"])
    return skill


@transaction.atomic
def save_canned_reply(
    *, actor: User, language: str, title: str, body: str, reply=None, delete: bool = False
):
    from krov.aid.models import CannedReply

    _require_coordinator(actor)
    if reply is not None and delete:
        reply.delete()
        return None
    title = title.strip()
    body = check_text(body, what=gettext_lazy("the reply"))
    if not title or len(title) > 80:
        raise AidError(_("A canned reply needs a title of at most 80 characters."))
    if language not in AID_LANGUAGES:
        raise AidError(_("Unknown language."))
    if reply is None:
        return CannedReply.objects.create(language=language, title=title, body=body)
    reply.language, reply.title, reply.body = language, title, body
    reply.save(update_fields=["language", "title", "body"])
    return reply
