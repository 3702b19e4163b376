from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.aid import notices, services
from krov.aid.models import HelpRequest
from krov.core import notify


@db_task()
def tell_coordinators_new_request(request_id: int) -> None:
    case = HelpRequest.objects.filter(pk=request_id).first()
    if case is None:
        return
    for user in services.coordinators():
        notify.notify(user, notices.NEW_REQUEST, link=services.case_link(case))


@db_periodic_task(crontab(minute="*"))
def expire_offers() -> None:
    services.expire_offers()


@db_periodic_task(crontab(minute="*"))
def alert_unanswered_critical() -> None:
    services.alert_unanswered_critical()


@db_periodic_task(crontab(minute="17"))
def apply_retention() -> None:
    services.purge()


@db_periodic_task(crontab(minute="*"))
def send_requester_notices() -> None:
    """Emails to web requesters that someone answered (one also goes out on the answer's
    commit; this sweep takes those a busy queue or a restart left due)."""
    services.send_requester_notices()


@db_task()
def send_requester_notices_now() -> None:
    services.send_requester_notices()
