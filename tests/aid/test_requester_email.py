"""A web requester who asked for it is emailed that someone answered
(krov/aid/services/email_notice.py): neutral, in their language, at most once every few
hours, and from an address that no key on the server's disk opens."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from krov.aid import services
from krov.aid.models import HelpRequest
from krov.aid.services import email_notice
from krov.core import sealing
from krov.telegram import outbox_keys
from krov.telegram.models import OutboxKey
from tests.aid.test_sealed_cases import field_key_plaintexts, make_team
from tests.helpers import signed_in, soup

pytestmark = pytest.mark.django_db

ADDRESS = "marta.k.7f3c@example.org"
STORY = "Ми ховаємося в підвалі на вулиці Сумській"


@pytest.fixture
def team(coordinator):
    return make_team(coordinator)


@pytest.fixture
def asked(team, skills):
    """A web request with an email address, as the form sends it."""
    submitted = services.submit_request(
        channel=HelpRequest.Channel.WEB,
        language="uk",
        skill=skills["driving"],
        description=STORY,
        email=ADDRESS,
    )
    return submitted.request, submitted.token


@pytest.fixture
def taken(asked, make_volunteer, coordinator):
    case, token = asked
    volunteer = make_volunteer("Veter")
    services.triage(case, actor=coordinator)
    offer = services.offer(case, actor=coordinator, volunteer=volunteer)
    case = services.accept_offer(offer, actor=volunteer.user)
    mail.outbox.clear()
    return case, token, volunteer


def answer(case, volunteer, capture, text="Я можу допомогти завтра") -> None:
    with capture(execute=True):
        services.post_reply(case, actor=volunteer.user, body=text)


def emails_to_requester() -> list:
    return [m for m in mail.outbox if m.to == [ADDRESS]]


def deliver(after=timedelta(minutes=31)) -> int:
    """The worker's sweep once the email's random delay (5 to 30 minutes) has passed."""
    return services.send_requester_notices(now=timezone.now() + after)


def test_the_address_is_kept_only_sealed_and_no_key_on_the_server_opens_it(asked, team, settings):
    case, _token = asked
    case.refresh_from_db()
    assert sealing.is_sealed(case.contact_handle)
    assert not case.contact_lookup  # no keyed hash either: the server's secret would test it
    assert case.notice_sealed  # sealed to this (test) process's worker key
    # Nothing in any column, opened with the field keys or not, shows it.
    assert not any(ADDRESS in text for text in field_key_plaintexts())
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_handle, notice_sealed FROM aid_helprequest")
        assert ADDRESS not in repr(cursor.fetchall())
    # The coordinator's key, from outside the server, opens it.
    assert team.read(case, "request.contact", case.contact_handle).rstrip() == ADDRESS


def test_an_answer_emails_the_requester_in_their_language_with_no_word_and_no_link(
    taken, django_capture_on_commit_callbacks, settings
):
    settings.DEFAULT_FROM_EMAIL = "Krov <news@mail.example.org>"
    case, token, volunteer = taken
    answer(case, volunteer, django_capture_on_commit_callbacks, text="Секретна відповідь")
    assert not emails_to_requester()  # not at the answer's time: a random while later
    case.refresh_from_db()
    delay = case.notice_due_at - timezone.now()
    assert timedelta(minutes=4) < delay <= timedelta(minutes=30)
    assert deliver() == 1
    (sent,) = emails_to_requester()
    assert sent.subject == "На вас чекає щось нове"
    assert sent.body.startswith("Хтось відповів вам.")
    for secret in ("Секретна", "Сумськ", token, case.code, "http", "Krov", "допомог"):
        assert secret not in sent.subject + sent.body
    # The Message-ID names the sender's domain, not this machine.
    assert sent.message()["Message-ID"].endswith("@mail.example.org>")


def test_ten_answers_in_an_evening_make_one_email_and_the_next_waits_for_the_gap(
    taken, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    for n in range(3):
        answer(case, volunteer, django_capture_on_commit_callbacks, text=f"Відповідь {n}")
    assert deliver() == 1
    for n in range(3, 6):
        answer(case, volunteer, django_capture_on_commit_callbacks, text=f"Відповідь {n}")
    assert len(emails_to_requester()) == 1
    case.refresh_from_db()
    assert case.notice_due_at is not None  # the next one, after the gap
    assert case.noticed_at.minute == 0 and case.noticed_at.second == 0  # kept to the hour
    assert deliver() == 0
    assert case.notice_due_at >= case.noticed_at + email_notice.NOTICE_GAP
    assert services.send_requester_notices(now=case.notice_due_at + timedelta(seconds=1)) == 1
    assert len(emails_to_requester()) == 2


def test_a_requester_who_read_the_answer_is_not_emailed_about_it(
    taken, client, django_capture_on_commit_callbacks
):
    case, token, volunteer = taken
    services.post_reply(case, actor=volunteer.user, body="Перша")
    case.refresh_from_db()
    # Due later (as after an earlier email); the requester reads it before then.
    HelpRequest.objects.filter(pk=case.pk).update(notice_due_at=timezone.now() + timedelta(hours=1))
    client.get(reverse("aid:requester_case", args=[token]))
    assert services.send_requester_notices(now=timezone.now() + timedelta(hours=2)) == 0
    assert not emails_to_requester()


def test_after_a_worker_restart_the_email_waits_for_the_requesters_next_visit(
    taken, client, django_capture_on_commit_callbacks
):
    case, token, volunteer = taken
    outbox_keys.forget()  # the worker stopped: its key is gone with it
    OutboxKey.objects.all().delete()
    try:
        answer(case, volunteer, django_capture_on_commit_callbacks)
        assert deliver() == 0
        case.refresh_from_db()
        assert case.notice_due_at is not None  # waiting, not dropped
        # Their visit seals the address to the running worker again (their link opens the
        # case's key for that one request); a later answer is emailed.
        client.get(reverse("aid:requester_case", args=[token]))
        case.refresh_from_db()
        assert case.notice_due_at is None
        assert set(case.notice_sealed) & outbox_keys.held_publics()
        answer(case, volunteer, django_capture_on_commit_callbacks, text="Друга")
        assert deliver() == 1
        assert len(emails_to_requester()) == 1
    finally:
        outbox_keys.forget()


def test_after_a_worker_restart_a_coordinators_krov_hands_the_case_key_and_the_email_goes(
    taken, team, coordinator, django_capture_on_commit_callbacks
):
    from tests.telegram.test_outbox_keys import hand_case_key

    case, _token, volunteer = taken
    outbox_keys.forget()
    OutboxKey.objects.all().delete()
    try:
        answer(case, volunteer, django_capture_on_commit_callbacks)
        outbox_keys.hold()  # a new worker runs; the address is sealed to none of its keys
        assert deliver() == 0
        desk = signed_in(coordinator)
        waiting = desk.get("/en/aid/keys/relays/").json()["waiting"]
        (item,) = [w for w in waiting if w["case"] == str(case.public_id)]
        response = desk.post("/en/aid/keys/relays/", hand_case_key(team, case, item))
        assert response.status_code == 200, response.content
        assert deliver() == 1
        assert len(emails_to_requester()) == 1
        case.refresh_from_db()
        assert case.notice_handed == {}  # sealed to the running worker again instead
        assert set(case.notice_sealed) & outbox_keys.held_publics()
        assert desk.get("/en/aid/keys/relays/").json()["waiting"] == []
    finally:
        outbox_keys.forget()


def test_stranded_emails_do_not_hold_up_those_a_worker_can_send(
    taken, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    answer(case, volunteer, django_capture_on_commit_callbacks)
    # 250 older due cases sealed only to a worker that is gone come first by date.
    stranded = HelpRequest.objects.get(pk=case.pk)
    for _n in range(250):
        stranded.pk = None
        stranded.public_id = uuid.uuid4()
        stranded.code = f"K-{uuid.uuid4().hex[:6].upper()}"
        stranded.token_hash = stranded.submission_hash = None
        stranded.notice_sealed = {"gone-worker": "sealed:x"}
        stranded.notice_due_at = timezone.now() - timedelta(days=1)
        stranded.save()
    assert deliver() == 1


def test_stop_emails_deletes_the_address(taken, client, django_capture_on_commit_callbacks):
    case, token, volunteer = taken
    page = client.get(reverse("aid:requester_case", args=[token]))
    assert soup(page).find(id="email-heading") is not None
    response = client.post(reverse("aid:requester_stop_emails", args=[token]))
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.contact_handle == "" and case.notice_sealed == {}
    answer(case, volunteer, django_capture_on_commit_callbacks)
    assert not emails_to_requester()
    page = client.get(reverse("aid:requester_case", args=[token]))
    assert soup(page).find(id="email-heading") is None


def test_stop_emails_with_a_wrong_link_finds_nothing(client):
    response = client.post(reverse("aid:requester_stop_emails", args=["not-a-link"]))
    assert response.status_code == 404


def test_closing_the_case_deletes_the_address_after_its_last_email(
    taken, coordinator, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    with django_capture_on_commit_callbacks(execute=False):  # the queue is slow tonight
        services.post_reply(case, actor=volunteer.user, body="Остання відповідь")
        services.close_case(case, actor=volunteer.user, outcome=services.Outcome.HELPED)
    case.refresh_from_db()
    assert case.contact_handle  # an email is still due
    assert deliver() == 1
    case.refresh_from_db()
    assert case.contact_handle == "" and case.notice_sealed == {}


def test_purging_the_case_deletes_the_address(taken):
    case, _token, _volunteer = taken
    services.forget(case)
    case.refresh_from_db()
    assert case.contact_handle == "" and case.notice_sealed == {} and case.notice_due_at is None


def test_a_mail_server_that_refuses_gets_the_email_again_later(
    taken, settings, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    settings.EMAIL_BACKEND = "tests.aid.test_requester_email.RefusingBackend"
    answer(case, volunteer, django_capture_on_commit_callbacks)
    assert deliver() == 0
    case.refresh_from_db()
    assert case.notice_due_at is not None and case.notice_failures == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert deliver(timedelta(minutes=50)) == 1
    case.refresh_from_db()
    assert case.notice_failures == 0 and case.notice_due_at is None


def test_a_mail_server_that_keeps_refusing_or_refuses_the_address_makes_it_go(
    taken, settings, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    settings.EMAIL_BACKEND = "tests.aid.test_requester_email.RefusingBackend"
    answer(case, volunteer, django_capture_on_commit_callbacks)
    for attempt in range(email_notice.MAX_FAILURES):
        assert deliver(timedelta(minutes=31 + 20 * attempt)) == 0
    case.refresh_from_db()
    assert case.contact_handle == "" and case.notice_sealed == {} and case.notice_due_at is None


def test_a_recipient_refused_outright_makes_the_address_go_at_once(
    taken, settings, django_capture_on_commit_callbacks
):
    case, _token, volunteer = taken
    settings.EMAIL_BACKEND = "tests.aid.test_requester_email.NoSuchMailbox"
    answer(case, volunteer, django_capture_on_commit_callbacks)
    assert deliver() == 0
    case.refresh_from_db()
    assert case.contact_handle == "" and case.notice_due_at is None


def test_a_worker_that_dies_while_sending_leaves_the_email_due_again(
    taken, django_capture_on_commit_callbacks, monkeypatch
):
    case, _token, volunteer = taken
    answer(case, volunteer, django_capture_on_commit_callbacks)

    def dies(self, fail_silently=False):
        raise SystemExit("killed")

    monkeypatch.setattr(email_notice.EmailMessage, "send", dies)
    with pytest.raises(SystemExit):
        deliver()
    monkeypatch.undo()
    case.refresh_from_db()
    assert case.notice_due_at is not None  # the claim is a lease
    assert deliver(timedelta(minutes=31)) == 0  # held by the lease a while
    assert deliver(email_notice.CLAIM + timedelta(minutes=32)) == 1


def test_the_sealed_address_does_not_show_its_length(asked, team, skills):
    case, _token = asked
    other = services.submit_request(
        channel=HelpRequest.Channel.WEB,
        language="uk",
        skill=skills["driving"],
        description=STORY,
        email="a@b.co",
    ).request
    case.refresh_from_db()
    assert len(case.contact_handle) == len(other.contact_handle)
    assert {len(v) for v in case.notice_sealed.values()} == {
        len(v) for v in other.notice_sealed.values()
    }
    assert team.read(other, "request.contact", other.contact_handle).rstrip() == "a@b.co"


@pytest.mark.parametrize(
    "address",
    [
        "a@localhost",
        "a@[127.0.0.1]",
        "a@mailhost",
        '"a\x01b"@example.org',
        '"a b"@example.org',
        "a@example.org\r\nBcc: b@example.org",
    ],
)
def test_addresses_a_mail_server_would_treat_specially_are_refused(address):
    with pytest.raises(services.EmailRefused):
        email_notice.clean_address(address)


class RefusingBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("the mail server is down")


class NoSuchMailbox(RefusingBackend):
    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({ADDRESS: (550, b"No such user")})


# --- the form -----------------------------------------------------------------------------


def form_data(**extra) -> dict:
    return {
        "language": "uk",
        "skill": "",
        "description": STORY,
        "urgency": str(HelpRequest.Urgency.NORMAL),
        "region": "",
        "submission_key": "k" * 20,
        **extra,
    }


def test_the_form_offers_the_email_only_when_it_can_be_sealed(client, skills, coordinator):
    url = reverse("aid:request")
    assert soup(client.get(url)).find("input", attrs={"name": "email"}) is None
    make_team(coordinator)
    assert soup(client.get(url)).find("input", attrs={"name": "email"}) is not None


def test_the_form_offers_no_email_where_mail_would_be_written_to_disk(
    client, skills, team, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    page = soup(client.get(reverse("aid:request")))
    assert page.find("input", attrs={"name": "email"}) is None


def test_a_bad_address_is_refused_beside_the_field_and_the_request_text_stays(client, skills, team):
    response = client.post(reverse("aid:request"), form_data(email="not an address"))
    assert response.status_code == 400
    page = soup(response)
    assert "valid email address" in page.text
    assert STORY in page.find("textarea").text
    assert not HelpRequest.objects.exists()


def test_the_form_with_an_address_makes_a_case_that_emails(
    client, skills, team, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("aid:request"), form_data(email=ADDRESS))
    assert response.status_code == 302
    case = HelpRequest.objects.get()
    assert services.requester_wants_email(case)
    assert team.read(case, "request.contact", case.contact_handle).rstrip() == ADDRESS


def test_an_address_posted_while_no_team_key_exists_is_refused_not_kept(skills, coordinator):
    with pytest.raises(services.EmailRefused):
        services.submit_request(
            channel=HelpRequest.Channel.WEB,
            language="uk",
            skill=skills["driving"],
            description=STORY,
            email=ADDRESS,
        )
    assert not HelpRequest.objects.exists()


def test_a_visit_to_a_closed_case_deletes_an_address_still_kept(
    taken, client, django_capture_on_commit_callbacks
):
    case, token, volunteer = taken
    outbox_keys.forget()  # the worker is gone: the due email cannot go
    OutboxKey.objects.all().delete()
    try:
        with django_capture_on_commit_callbacks(execute=False):
            services.post_reply(case, actor=volunteer.user, body="Остання відповідь")
            services.close_case(case, actor=volunteer.user, outcome=services.Outcome.HELPED)
        case.refresh_from_db()
        assert case.contact_handle  # kept while its email is due
        client.get(reverse("aid:requester_case", args=[token]))
        case.refresh_from_db()
        assert case.contact_handle == "" and case.notice_due_at is None
    finally:
        outbox_keys.forget()


def test_a_worker_key_written_into_the_database_without_the_secret_gets_nothing(team, skills):
    """Someone who can write to the database but lacks KROV_SECRET_KEY announces a key of
    their own, 'seen' far ahead: no address, chat id or answer is sealed to it."""
    from django.test import override_settings

    from krov.core import sealing as sealing_module

    forged = sealing_module.KeyPair.generate().public
    OutboxKey.objects.create(public=forged, seen_at=timezone.now() + timedelta(days=365))
    other = sealing_module.KeyPair.generate().public
    ahead = timezone.now() + timedelta(days=365)
    with override_settings(SECRET_KEY="another-secret-" + "x" * 40):
        wrong = outbox_keys.proof(other, ahead)
    OutboxKey.objects.create(public=other, seen_at=ahead, proof=wrong)
    assert forged not in outbox_keys.live_keys() and other not in outbox_keys.live_keys()
    case = services.submit_request(
        channel=HelpRequest.Channel.WEB,
        language="uk",
        skill=skills["driving"],
        description=STORY,
        email=ADDRESS,
    ).request
    case.refresh_from_db()
    assert case.notice_sealed  # sealed to the real worker
    assert forged not in case.notice_sealed and other not in case.notice_sealed
    assert set(case.notice_sealed) <= outbox_keys.held_publics()
