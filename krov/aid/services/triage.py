"""Coordinators sort new requests: triage, spam, merging duplicates, the queue."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from krov.accounts.models import User
from krov.aid.models import (
    HelpRequest,
    Message,
    Note,
    Skill,
)
from krov.aid.services.access import _require_coordinator
from krov.aid.services.base import AidError, Outcome, Status
from krov.aid.services.intake import notify_coordinators
from krov.aid.services.offers import _withdraw_offers
from krov.core import ratelimit


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


# What marking as spam can be undone back to (offers it withdrew are not made again).
UNDO_SPAM_TO: dict[str, str] = {"new": "new", "triaged": "triaged", "offered": "triaged"}


@transaction.atomic
def undo_spam(data: dict, *, actor: User) -> str:
    """krov.core.undo: a request marked as spam a moment ago goes back to triage
    (`data`: {"case": id, "status": what it was})."""
    from krov.core.undo import UndoError

    pk = data.get("case")
    case = (
        HelpRequest.objects.select_for_update().filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    back_to = UNDO_SPAM_TO.get(str(data.get("status")))
    if case is None or case.status != Status.SPAM or case.purged_at or back_to is None:
        raise UndoError(_("This request is no longer marked as spam."))
    try:
        _require_coordinator(actor)
    except AidError as error:
        raise UndoError(str(error)) from None
    HelpRequest.objects.filter(pk=case.pk).update(
        status=back_to, closed_at=None, last_activity_at=timezone.now()
    )
    return _("%(code)s is back in triage.") % {"code": case.code}


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
    if duplicate.is_sealed or into.is_sealed:
        # Each is sealed to its own key, which the server does not hold: their texts cannot
        # be moved into one conversation here.
        raise AidError(
            _(
                "Sealed requests are not merged. Close the duplicate with the outcome "
                "“Duplicate” and answer the other one."
            )
        )
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


def alert_unanswered_critical(now=None) -> int:
    """Every coordinator is alerted, once per case, when a life-or-safety request has had no
    answer for KROV_AID_CRITICAL_ALERT_MINUTES, instead of it waiting silently in triage.
    Returns how many cases were alerted. Safe with several workers: each case is claimed
    with a conditional UPDATE."""
    from krov.aid import notices

    now = now or timezone.now()
    minutes = settings.KROV_AID_CRITICAL_ALERT_MINUTES
    due = HelpRequest.objects.open().filter(
        urgency=HelpRequest.Urgency.CRITICAL,
        first_response_at__isnull=True,
        critical_alerted_at__isnull=True,
        created_at__lte=now - timedelta(minutes=minutes),
    )
    alerted = 0
    for case in due.order_by("created_at")[:100]:
        with transaction.atomic():
            claimed = HelpRequest.objects.filter(
                pk=case.pk, critical_alerted_at__isnull=True
            ).update(critical_alerted_at=now)
            if not claimed:
                continue
            transaction.on_commit(
                partial(
                    notify_coordinators,
                    notices.CRITICAL_UNANSWERED,
                    link=f"{reverse('aid:triage')}?urgency={HelpRequest.Urgency.CRITICAL}",
                    params={"minutes": minutes},
                )
            )
        alerted += 1
    return alerted


def desk_waiting() -> dict:
    """What waits on the desk, for a coordinator's home: counts and the oldest of each, in
    one query. Untriaged: new requests. Unanswered: taken or offered, no first answer yet.
    Life or safety: open, the highest urgency, not answered yet."""
    unanswered = Q(first_response_at__isnull=True)
    new = Q(status=Status.NEW)
    waiting = Q(status__in=[Status.TRIAGED, Status.OFFERED, Status.ACTIVE]) & unanswered
    critical = Q(urgency=HelpRequest.Urgency.CRITICAL) & unanswered
    return HelpRequest.objects.open().aggregate(
        new=Count("pk", filter=new),
        new_since=Min("created_at", filter=new),
        unanswered=Count("pk", filter=waiting),
        unanswered_since=Min("created_at", filter=waiting),
        critical=Count("pk", filter=critical),
        critical_since=Min("created_at", filter=critical),
    )
