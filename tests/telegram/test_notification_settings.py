"""Telegram as a notification channel a volunteer chooses in their settings."""

from __future__ import annotations

import pytest

from krov.accounts import services as account_services
from krov.aid import services as aid
from krov.core.models import Notification
from tests.helpers import signed_in, soup
from tests.telegram.test_volunteers import linked_volunteer

pytestmark = pytest.mark.django_db


def channels_offered(user) -> list[str]:
    page = soup(signed_in(user).get("/en/account/"))
    return [i["value"] for i in page.select("input[name=notification_channel]")]


def test_telegram_is_offered_once_a_chat_is_linked_and_not_before(telegram_user, make_volunteer):
    volunteer, _chat = linked_volunteer(telegram_user, make_volunteer)
    assert channels_offered(volunteer.user) == ["telegram", "email", "none"]
    other = make_volunteer("Bura")
    assert channels_offered(other.user) == ["email", "none"]
    response = signed_in(other.user).post(
        "/en/account/",
        {"pseudonym": "Bura", "language": "en", "notification_channel": "telegram"},
    )
    assert response.status_code == 400


def test_an_offer_on_telegram_is_written_in_the_volunteers_language(
    telegram_user, make_volunteer, submit, coordinator
):
    volunteer, chat = linked_volunteer(telegram_user, make_volunteer)
    user = volunteer.user
    account_services.update_settings(
        user, pseudonym=user.pseudonym, language="ru", notification_channel="telegram", actor=user
    )
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    assert chat.inbox()[-1]["text"].startswith("Вас ждёт что-то новое")
    assert Notification.objects.get(kind="aid_offer").channel == "telegram"


def test_a_volunteer_who_chose_email_gets_email_although_linked(
    telegram_user, make_volunteer, submit, coordinator, mailoutbox
):
    volunteer, chat = linked_volunteer(telegram_user, make_volunteer)
    user = volunteer.user
    account_services.update_settings(
        user, pseudonym=user.pseudonym, language="en", notification_channel="email", actor=user
    )
    before = len(chat.inbox())
    case, _token = submit("Потрібен маршрут з Харкова")
    aid.offer(case, actor=coordinator, volunteer=volunteer)
    assert len(chat.inbox()) == before
    assert Notification.objects.get(kind="aid_offer").channel == "email"
    assert any(m.to == [user.email] for m in mailoutbox)
