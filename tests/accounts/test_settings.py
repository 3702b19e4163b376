"""A person's own settings (/<lang>/account/) and safety page (/<lang>/account/safety/)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from krov.accounts import roles, services
from krov.accounts.models import User
from krov.core import notify
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

SETTINGS, SAFETY = "/en/account/", "/en/account/safety/"


def form_data(user: User, **changes) -> dict:
    data = {
        "pseudonym": user.pseudonym,
        "language": user.language,
        "notification_channel": services.current_notification_channel(user),
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("role", roles.ROLE_ORDER)
def test_each_role_sees_only_its_own_settings(personas, login_as, role):
    persona = personas[role]
    response = login_as(persona).get(SETTINGS)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = soup(response)
    assert page.select_one("input[name=pseudonym]")["value"] == persona.user.pseudonym
    text = str(page.select_one("main"))
    for other_role, other in personas.items():
        if other_role != role:
            assert other.user.pseudonym not in text and other.user.email not in text


def test_a_post_changes_only_the_signed_in_persons_account(personas, login_as):
    member, editor = personas["member"].user, personas["editor"].user
    response = login_as(personas["member"]).post(
        SETTINGS, {**form_data(member, pseudonym="Lastivka"), "user": editor.pk, "id": editor.pk}
    )
    assert response.status_code == 302 and response["Location"] == SETTINGS
    member.refresh_from_db()
    editor.refresh_from_db()
    assert member.pseudonym == "Lastivka" and editor.pseudonym == "EditorPersona"
    with pytest.raises(services.AccountError):
        services.update_settings(editor, **form_data(editor, pseudonym="Taken"), actor=member)


@pytest.mark.parametrize("url", [SETTINGS, SAFETY])
def test_a_visitor_is_sent_to_sign_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_pseudonym_language_and_channel_are_saved(personas, login_as):
    member = personas["member"].user
    client = login_as(personas["member"])
    response = client.post(
        SETTINGS,
        form_data(member, pseudonym="  Nova   Zorya ", language="ru", notification_channel="none"),
        follow=True,
    )
    assert response.status_code == 200
    assert "Your settings are saved." in soup(response).select_one(".messages").get_text()
    member.refresh_from_db()
    assert (member.pseudonym, member.language, member.notification_channel) == (
        "Nova Zorya",
        "ru",
        "none",
    )
    # A new pseudonym is on the record, with the old one (others knew the person by it).
    from krov.core.models import AuditEvent

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PSEUDONYM_CHANGED)
    assert event.subject_pseudonym == "Nova Zorya" and event.detail["previous"] != "Nova Zorya"
    page = soup(client.get(SETTINGS))
    assert page.select_one("option[value=ru]").has_attr("selected")
    assert page.select_one("input[name=notification_channel][value=none]").has_attr("checked")


def test_the_language_offered_is_each_of_the_sites_languages_in_its_own_name(personas, login_as):
    page = soup(login_as(personas["member"]).get(SETTINGS))
    options = {o["value"]: o.get_text() for o in page.select("select[name=language] option")}
    assert list(options) == ["ru", "uk", "sr", "sr-latn", "en", "de"]
    assert options["ru"] == "Русский" and options["de"] == "Deutsch"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"pseudonym": "adminpersona"}, "pseudonym", "This pseudonym is taken"),
        ({"pseudonym": "x"}, "pseudonym", "at least 2 characters"),
        ({"pseudonym": "y" * 41}, "pseudonym", "at most 40 characters"),
        ({"pseudonym": "   "}, "pseudonym", "This field is required"),
        ({"language": "xx"}, "language", "Select a valid choice"),
        ({"language": ""}, "language", "This field is required"),
        ({"notification_channel": "telegram"}, "notification_channel", "Select a valid choice"),
        ({"notification_channel": "pigeon"}, "notification_channel", "Select a valid choice"),
    ],
)
def test_bad_input_gets_a_form_error_next_to_the_field(personas, login_as, changes, field, message):
    member = personas["member"].user
    before = (member.pseudonym, member.language, member.notification_channel)
    response = login_as(personas["member"]).post(SETTINGS, form_data(member, **changes))
    assert response.status_code == 400
    error = soup(response).select_one(f"#id_{field}_error")
    assert error is not None and message in error.get_text(), soup(response).select(".error")
    member.refresh_from_db()
    assert (member.pseudonym, member.language, member.notification_channel) == before


def test_a_post_without_any_field_is_a_400(personas, login_as):
    response = login_as(personas["member"]).post(SETTINGS, {})
    assert response.status_code == 400
    assert len(soup(response).select(".error")) == 3


def test_the_telegram_option_is_absent_without_a_linked_chat(personas, login_as):
    volunteer = personas["volunteer"]
    page = soup(login_as(volunteer).get(SETTINGS))
    offered = [i["value"] for i in page.select("input[name=notification_channel]")]
    assert offered == ["email", "none"]
    # A volunteer is shown where to link a chat; a member is not.
    assert page.select_one('main a[href="/en/aid/telegram/"]') is not None
    member_page = soup(login_as(personas["member"]).get(SETTINGS))
    assert member_page.select_one('main a[href="/en/aid/telegram/"]') is None


def test_saving_the_channel_shown_keeps_it_unchosen(personas):
    """Who never chose keeps "not chosen": linking Telegram later still moves them there."""
    member = personas["member"].user
    services.update_settings(member, **form_data(member, language="de"), actor=member)
    member.refresh_from_db()
    assert member.language == "de" and member.notification_channel == ""


def test_the_safety_page_brings_password_second_factors_duress_and_panic_together(
    personas, login_as
):
    volunteer = personas["volunteer"]  # has TOTP
    response = login_as(volunteer).get(SAFETY)
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    page = soup(response)
    links = {a["href"] for a in page.select("main a")}
    assert {
        "/en/accounts/password/change/",
        "/en/accounts/2fa/",
        "/en/account/duress/",
        "/en/account/panic/",
        "/en/accounts/email/",
    } <= links
    assert "Two-factor authentication is on." in page.get_text()
    facts = dict(
        zip(
            [dt.get_text() for dt in page.select("dl.facts dt")],
            [dd.get_text() for dd in page.select("dl.facts dd")],
            strict=True,
        )
    )
    assert facts["Authenticator app"] == "on" and facts["Security keys"] == "0"


def test_a_member_without_second_factor_reads_that_it_is_off(personas):
    page = soup(signed_in(personas["member"].user).get(SAFETY))
    assert "Two-factor authentication is off." in page.get_text()
    facts = [dd.get_text() for dd in page.select("dl.facts dd")]
    assert facts == ["off", "0", "off"]


def test_the_header_and_the_home_lead_to_settings_and_safety(personas, login_as):
    client = login_as(personas["organiser"])
    home = soup(client.get("/en/dashboard/"))
    assert home.select_one(f'header nav.account-nav a[href="{SETTINGS}"]') is not None
    assert {SETTINGS, SAFETY, "/en/account/panic/"} <= {a["href"] for a in home.select("main a")}


def test_duress_saved_from_the_safety_page_returns_there(personas, login_as):
    from tests.conftest import PASSWORD

    client = login_as(personas["member"])
    response = client.post(
        "/en/account/duress/", {"password": PASSWORD, "duress_password": "another long one"}
    )
    assert response.status_code == 302 and response["Location"] == SAFETY


# --- the language of what Krov sends -----------------------------------------------------------


def test_signing_up_keeps_the_language_of_the_signup_page(client):
    response = client.post(
        "/ru/accounts/signup/",
        {
            "email": "new@example.org",
            "pseudonym": "Lastivka",
            "password1": "a long enough passphrase",
            "password2": "a long enough passphrase",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.org").language == "ru"
    [verification] = mail.outbox
    assert re.search("[а-яё]", verification.subject.lower())


def test_allauth_mail_is_written_in_the_persons_language_not_the_pages(personas):
    member = personas["member"].user
    services.update_settings(member, **form_data(member, language="ru"), actor=member)
    mail.outbox.clear()
    response = Client().post("/en/accounts/password/reset/", {"email": member.email})
    assert response.status_code == 302
    [reset] = mail.outbox
    assert re.search("[а-яё]", reset.subject.lower()), reset.subject
    # Someone who keeps English gets it in English.
    editor = personas["editor"].user
    mail.outbox.clear()
    Client().post("/ru/accounts/password/reset/", {"email": editor.email})
    [reset] = mail.outbox
    assert not re.search("[а-яё]", reset.subject.lower()), reset.subject


def test_notifications_set_to_none_reach_nobody_after_saving_from_the_page(
    personas, login_as, django_capture_on_commit_callbacks
):
    from krov.accounts import notices

    coordinator = personas["coordinator"]
    user = coordinator.user
    login_as(coordinator).post(SETTINGS, form_data(user, notification_channel="none"))
    user.refresh_from_db()
    assert user.notification_channel == notify.NONE
    # Not a safety notice: skipped.
    from krov.aid import notices as aid_notices

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        note = notify.notify(user, aid_notices.NEW_REQUEST)
    note.refresh_from_db()
    assert note.status == "skipped" and not mail.outbox
    assert notices.CASE_ROLE_GRANTED.security  # safety notices still come (tests/core)
