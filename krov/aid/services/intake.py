"""Help requests arriving from the web form and the Telegram dialogue."""

from __future__ import annotations

import hmac
import secrets
from functools import partial

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from krov.accounts import roles
from krov.accounts.models import User
from krov.aid.models import (
    HelpRequest,
    PendingCaseKey,
    Skill,
)
from krov.aid.services import email_notice, keys
from krov.aid.services.base import (
    AidError,
    Submitted,
    _new_code,
    check_text,
    keyed_hash,
    serving_language,
)
from krov.core import notify, sealing


def submit_request(
    *,
    channel: str,
    language: str | None,
    skill: Skill,
    description: str,
    urgency: int = HelpRequest.Urgency.NORMAL,
    region: str = "",
    contact_handle: str = "",
    contact_lookup: str = "",
    submission_key: str = "",
    pending: PendingCaseKey | None = None,
    email: str = "",
) -> Submitted:
    """Store a help request. The same `submission_key` twice gives the first request back,
    with the same secret link (the link is derived from the key and never stored).

    With `pending` (a Telegram requester's key, keys.prepare_case_key), the description
    arrives already sealed to it, its length checked before it was sealed; the case takes
    the key and its id over. `email`: a web requester's address for "someone answered"
    emails, kept only sealed (krov.aid.services.email_notice)."""
    email = email_notice.clean_address(email) if channel == HelpRequest.Channel.WEB else ""
    if pending is None:
        description = check_text(description, what=gettext_lazy("what you need"))
    elif not sealing.is_sealed(description):
        raise AidError(_("The request could not be stored; please try again."))
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
                request = HelpRequest(
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
                    contact_lookup=contact_lookup
                    or (keyed_hash("contact", contact_handle) if contact_handle else ""),
                )
                team = keys.current_team_key()
                if pending is not None:
                    request.public_id = pending.case_id
                    request.save(force_insert=True)
                    keys.adopt_pending_key(request, pending)
                elif team is not None:
                    keys.seal_new_case(request, token=token, team=team)
                else:
                    request.save(force_insert=True)
                email_notice.keep_address(request, email)
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


def notify_coordinators(
    notice: notify.Notice, *, link: str = "", params: dict | None = None
) -> None:
    for user in coordinators():
        notify.notify(user, notice, link=link, params=params)


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
