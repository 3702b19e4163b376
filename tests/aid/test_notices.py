"""What mutual aid tells people (krov/aid/notices.py): in each recipient's language, and
never a word of the case."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import translation

from krov.accounts import services as account_services
from krov.aid import notices, services
from krov.core import notify
from krov.core.models import Notification
from tests.conftest import make_persona
from tests.helpers import soup

pytestmark = pytest.mark.django_db

SECRET_STORY = "Секретна історія: ми ховаємося в підвалі на вулиці Сумській"


def speaks(user, language: str) -> None:
    account_services.update_settings(
        user,
        pseudonym=user.pseudonym,
        language=language,
        notification_channel=account_services.current_notification_channel(user),
        actor=user,
    )


def test_a_russian_coordinator_gets_the_new_request_notice_in_russian(
    coordinator, submit, django_capture_on_commit_callbacks
):
    english = make_persona("coordinator", email="second-coordinator@example.org").user
    speaks(coordinator, "ru")
    mail.outbox.clear()
    # The requester writes from the Ukrainian page: that is no one's language but theirs.
    with translation.override("uk"), django_capture_on_commit_callbacks(execute=True):
        case, _token = submit(SECRET_STORY, language="uk")
    told = {m.to[0]: m for m in mail.outbox}
    russian_mail, english_mail = told[coordinator.email], told[english.email]
    assert russian_mail.subject == "Krov: вас ждёт что-то новое"
    assert "Новый запрос о помощи ждёт сортировки." in russian_mail.body
    assert f"/ru/aid/cases/{case.public_id}/" in russian_mail.body
    assert english_mail.subject == "Krov: something new is waiting for you"
    assert f"/en/aid/cases/{case.public_id}/" in english_mail.body


def test_aid_notices_take_no_values_so_no_case_text_can_ride_along():
    aid_kinds = [n for n in notify.notices() if n.kind.startswith("aid_")]
    assert {n.kind for n in aid_kinds} >= {"aid_new_request", "aid_offer", "aid_message"}
    # A number of minutes is the only value any of them carries.
    assert all(set(n.params) <= {"minutes"} for n in aid_kinds)
    with pytest.raises(ValueError):
        notify.notify(None, notices.NEW_REQUEST, params={"text": SECRET_STORY})


def test_no_notification_of_a_whole_case_carries_its_words(
    submit, make_volunteer, coordinator, django_capture_on_commit_callbacks
):
    volunteer = make_volunteer("Veter")
    with django_capture_on_commit_callbacks(execute=True):
        case, token = submit(SECRET_STORY)
        services.triage(case, actor=coordinator)
        offer = services.offer(case, actor=coordinator, volunteer=volunteer)
        case = services.accept_offer(offer, actor=volunteer.user)
        services.post_requester_message(case, body=SECRET_STORY + " (ще раз)")
        services.add_note(case, actor=volunteer.user, body=SECRET_STORY, question=True)
    rows = list(Notification.objects.filter(kind__startswith="aid_"))
    assert {n.kind for n in rows} >= {"aid_new_request", "aid_offer", "aid_question"}
    for row in rows:
        assert row.params == {} and not row.subject and not row.body
    assert mail.outbox
    for sent in mail.outbox:
        assert "Сумськ" not in sent.subject + sent.body
        assert "підвал" not in sent.subject + sent.body


def test_the_requester_page_says_in_one_neutral_line_that_a_volunteer_answered(active_case):
    case, token, volunteer = active_case
    client = Client()

    def answered_line():
        page = soup(client.get(f"/uk/help/c/{token}/"))
        return page.select_one("#conversation .answered")

    assert answered_line() is None
    services.post_reply(case, actor=volunteer.user, body="Добрий день! Я допоможу.")
    line = answered_line()
    assert line is not None
    with translation.override("uk"):
        expected = translation.gettext("A volunteer answered you. Their message is below.")
    assert line.get_text(strip=True) == expected
    assert "Добрий день" not in line.get_text()  # a line about the answer, not the answer
    # The page polls its conversation: the line comes with it.
    partial = soup(client.get(f"/uk/help/c/{token}/messages/"))
    assert partial.select_one(".answered") is not None
    # The requester writes back: it is the volunteer's turn, the line goes.
    services.post_requester_message(case, body="Дякую!")
    assert answered_line() is None


def test_a_life_or_safety_request_nobody_answers_alerts_every_coordinator_once(
    coordinator, submit, settings, django_capture_on_commit_callbacks
):
    import time_machine
    from django.utils import timezone

    from krov.aid.models import HelpRequest

    settings.KROV_AID_CRITICAL_ALERT_MINUTES = 20
    quiet = make_persona("coordinator", email="quiet-coordinator@example.org").user
    speaks(coordinator, "ru")
    # One coordinator chose no notifications: life or safety reaches them all the same.
    account_services.update_settings(
        quiet, pseudonym=quiet.pseudonym, language="en", notification_channel="none", actor=quiet
    )
    critical, _token = submit(SECRET_STORY, urgency=HelpRequest.Urgency.CRITICAL)
    urgent, _token = submit("Need a lift tomorrow", urgency=HelpRequest.Urgency.HIGH)
    start = timezone.now()

    def alerts() -> list[Notification]:
        return list(Notification.objects.filter(kind="aid_critical_waiting"))

    with time_machine.travel(start + timedelta(minutes=19)):
        assert services.alert_unanswered_critical() == 0
    with django_capture_on_commit_callbacks(execute=True):
        mail.outbox.clear()
        with time_machine.travel(start + timedelta(minutes=21)):
            assert services.alert_unanswered_critical() == 1
            assert services.alert_unanswered_critical() == 0  # once per case
    assert {n.recipient for n in alerts()} == {coordinator, quiet}
    told = {m.to[0]: m for m in mail.outbox}
    assert "20" in told[quiet.email].body and "life or safety" in told[quiet.email].subject
    assert told[coordinator.email].subject.startswith("Krov:") and "life" not in (
        told[coordinator.email].subject
    )  # in Russian
    for sent in mail.outbox:
        assert "Сумськ" not in sent.subject + sent.body
    critical.refresh_from_db()
    assert critical.critical_alerted_at is not None
    urgent.refresh_from_db()
    assert urgent.critical_alerted_at is None


def test_an_answered_life_or_safety_request_alerts_nobody(coordinator, submit, make_volunteer):
    import time_machine
    from django.utils import timezone

    from krov.aid.models import HelpRequest

    case, _token = submit(SECRET_STORY, urgency=HelpRequest.Urgency.CRITICAL)
    volunteer = make_volunteer("Veter")
    services.assign(case, volunteer, actor=coordinator)
    services.post_reply(case, actor=volunteer.user, body="Я тут.")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert services.alert_unanswered_critical() == 0
    assert not Notification.objects.filter(kind="aid_critical_waiting").exists()
