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
