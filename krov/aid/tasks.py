from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import override
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from krov.aid import services
from krov.aid.models import HelpRequest
from krov.core import notify


@db_task()
def tell_coordinators_new_request(request_id: int) -> None:
    case = HelpRequest.objects.filter(pk=request_id).first()
    if case is None:
        return
    for user in services.coordinators():
        with override(None):
            notify.notify(
                user,
                "aid_new_request",
                subject=_("Krov: something new is waiting for you"),
                body=_("A new request for help is waiting in triage."),
                link=services.case_link(case),
            )


@db_periodic_task(crontab(minute="*"))
def expire_offers() -> None:
    services.expire_offers()


@db_periodic_task(crontab(minute="17"))
def apply_retention() -> None:
    services.purge()
