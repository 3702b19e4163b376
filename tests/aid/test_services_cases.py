"""The life of a case through krov.aid.services: offers, claims, the relay, hand-over,
closing, probation, panic and the duress password."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import HelpRequest, Message, Note, Offer, TrustLevel, VolunteerProfile
from krov.core.models import AuditEvent, Notification
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_offer_notifies_the_volunteer_without_any_case_detail(
    submit, make_volunteer, coordinator, django_capture_on_commit_callbacks
):
    volunteer = make_volunteer("Veter")
    case, _t = submit("Секретна історія про евакуацію")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.offer(case, actor=coordinator)
    notification = Notification.objects.get(recipient=volunteer.user, kind="aid_offer")
    assert notification.status == Notification.Status.SENT
    (sent,) = [m for m in mail.outbox if m.to == [volunteer.user.email]]
    assert "Секретна" not in sent.subject + sent.body
    assert sent.subject == "Krov: something new is waiting for you"


def test_an_offer_not_accepted_in_time_moves_to_the_next_volunteer(
    submit, make_volunteer, coordinator, settings
):
    settings.KROV_OFFER_MINUTES = 30
    first = make_volunteer("First", skill_levels={"driving": 3})
    second = make_volunteer("Second", skill_levels={"driving": 2})
    case, _t = submit()
    offer = services.offer(case, actor=coordinator)
    assert offer.volunteer == first
    with time_machine.travel(timezone.now() + timedelta(minutes=29)):
        assert services.expire_offers() == 0
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert services.expire_offers() == 1
        with pytest.raises(services.AidError):
            services.accept_offer(offer, actor=first.user)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.EXPIRED
    assert case.offers.get(status=Offer.Status.PENDING).volunteer == second


def test_when_nobody_is_left_the_request_returns_to_triage_with_a_note(
    submit, make_volunteer, coordinator
):
    only = make_volunteer("Only")
    case, _t = submit()
    offer = services.offer(case, actor=coordinator)
    services.decline_offer(offer, actor=only.user)
    case.refresh_from_db()
    assert case.status == HelpRequest.Status.TRIAGED
    assert case.notes.filter(kind=Note.Kind.SYSTEM).exists()


def test_two_volunteers_claiming_one_case_exactly_one_wins(submit, make_volunteer, coordinator):
    a = make_volunteer("Alpha")
    b = make_volunteer("Beta")
    case, _t = submit()
    offer_a = services.offer(case, actor=coordinator, volunteer=a)
    offer_b = services.offer(case, actor=coordinator, volunteer=b)
    services.accept_offer(offer_b, actor=b.user)
    with pytest.raises(services.AidError):
        services.accept_offer(offer_a, actor=a.user)
    case.refresh_from_db()
    assert case.assignee == b
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.open_cases, b.open_cases) == (0, 1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_from_two_threads_exactly_one_wins(submit, make_volunteer, coordinator):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL; SQLite serialises writers")
    a = make_volunteer("Alpha")
    b = make_volunteer("Beta")
    case, _t = submit()
    offers = [
        services.offer(case, actor=coordinator, volunteer=a),
        services.offer(case, actor=coordinator, volunteer=b),
    ]
    barrier = threading.Barrier(2)
    results: list[str] = []

    def claim(offer, user):
        try:
            barrier.wait()
            services.accept_offer(offer, actor=user)
            results.append("won")
        except services.AidError:
            results.append("lost")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=claim, args=(offers[0], a.user)),
        threading.Thread(target=claim, args=(offers[1], b.user)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["lost", "won"]
    assert VolunteerProfile.objects.filter(open_cases=1).count() == 1


def test_a_volunteer_cannot_accept_someone_elses_offer(submit, make_volunteer, coordinator):
    a = make_volunteer("Alpha")
    b = make_volunteer("Beta")
    case, _t = submit()
    offer = services.offer(case, actor=coordinator, volunteer=a)
    with pytest.raises(services.AidError):
        services.accept_offer(offer, actor=b.user)


def test_reply_goes_out_under_the_alias_and_records_first_response(active_case):
    case, _token, volunteer = active_case
    assert case.first_response_at is None
    message = services.post_reply(case, actor=volunteer.user, body="Привіт")
    case.refresh_from_db()
    assert message.author_alias == case.alias and case.alias
    assert volunteer.user.pseudonym not in case.alias
    assert (
        message.delivery == Message.Delivery.SENT
        or Message.objects.get(pk=message.pk).delivery == Message.Delivery.SENT
    )
    assert case.first_response_at is not None
    assert case.status == HelpRequest.Status.WAITING
    services.post_requester_message(case, body="Дякую")
    case.refresh_from_db()
    assert case.status == HelpRequest.Status.ACTIVE


def test_only_the_assigned_volunteer_can_reply(active_case, make_volunteer, coordinator):
    case, _token, _volunteer = active_case
    other = make_volunteer("Other")
    with pytest.raises(services.AidError):
        services.post_reply(case, actor=other.user, body="hi")
    with pytest.raises(services.AidError):
        services.post_reply(case, actor=coordinator, body="hi")


def test_writing_to_a_closed_case_is_refused_politely(active_case):
    case, _token, volunteer = active_case
    services.close_case(case, actor=volunteer.user, outcome="helped")
    with pytest.raises(services.CaseClosed, match="new request"):
        services.post_requester_message(case, body="hello?")
    with pytest.raises(services.CaseClosed):
        services.post_reply(case, actor=volunteer.user, body="late")


def test_closing_frees_capacity_and_counts_for_probation(
    submit, make_volunteer, coordinator, settings
):
    settings.KROV_PROBATION_CASES = 1
    newbie = make_volunteer("Newbie", trust=TrustLevel.PROBATION)
    case, _t = submit()
    services.triage(case, actor=coordinator, sensitivity=0)
    services.assign(case, newbie, actor=coordinator)
    newbie.refresh_from_db()
    assert newbie.open_cases == 1
    services.close_case(case, actor=newbie.user, outcome="helped")
    newbie.refresh_from_db()
    assert (newbie.open_cases, newbie.closed_cases, newbie.trust) == (0, 1, TrustLevel.REGULAR)
    assert AuditEvent.objects.filter(kind="trust_changed", subject_id_ref=newbie.user.pk).exists()


def test_hand_over_returns_the_case_to_triage_with_the_reason(active_case):
    case, _token, volunteer = active_case
    services.hand_over(case, actor=volunteer.user, reason="Need a Russian speaker")
    case.refresh_from_db()
    volunteer.refresh_from_db()
    assert case.status == HelpRequest.Status.TRIAGED and case.assignee is None
    assert volunteer.open_cases == 0
    assert "Need a Russian speaker" in [note.body for note in case.notes.all()]


def test_notes_and_questions_reach_coordinators(
    active_case, coordinator, django_capture_on_commit_callbacks
):
    case, _token, volunteer = active_case
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(case, actor=volunteer.user, body="Is this safe?", question=True)
    assert any(m.to == [coordinator.email] for m in mail.outbox)
    assert not any("Is this safe" in m.body for m in mail.outbox)


def test_merge_moves_the_conversation_and_the_duplicate_link_follows(submit, coordinator):
    original, _t1 = submit("first")
    duplicate, token = submit("first, again")
    services.merge(duplicate, original, actor=coordinator)
    duplicate.refresh_from_db()
    assert duplicate.status == HelpRequest.Status.CLOSED and duplicate.outcome == "duplicate"
    assert services.case_for_token(token) == original
    assert "first, again" in [message.body for message in original.messages.all()]


def test_spam_cannot_be_marked_on_a_case_in_progress(active_case, coordinator):
    case, _token, _volunteer = active_case
    with pytest.raises(services.AidError):
        services.mark_spam(case, actor=coordinator)


def test_panic_locks_ends_sessions_and_returns_open_cases_to_triage(
    active_case, coordinator, django_capture_on_commit_callbacks
):
    case, _token, volunteer = active_case
    client = Client()
    client.force_login(volunteer.user, backend="krov.accounts.backends.KrovBackend")
    assert client.get("/en/aid/").status_code == 200
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/en/account/panic/")
    assert response.status_code == 200
    volunteer.refresh_from_db()
    volunteer.user.refresh_from_db()
    case.refresh_from_db()
    assert not volunteer.user.is_active and volunteer.paused
    assert case.status == HelpRequest.Status.TRIAGED and case.assignee is None
    assert any("panic" in note.body for note in case.notes.filter(kind=Note.Kind.SYSTEM))
    assert any(m.to == [coordinator.email] for m in mail.outbox)
    assert AuditEvent.objects.filter(kind="panic", subject_id_ref=volunteer.user.pk).exists()
    other_session = Client()
    other_session.force_login(volunteer.user, backend="krov.accounts.backends.KrovBackend")
    assert other_session.get("/en/aid/").status_code == 302  # inactive: sent to sign in


def test_unlocking_takes_an_admin_who_asks_and_a_second_person(active_case, personas, coordinator):
    _case, _token, volunteer = active_case
    account_services.panic(volunteer.user, via="button")
    with pytest.raises(account_services.AccountError):
        account_services.request_unlock(volunteer.user, actor=coordinator)  # not an admin
    with pytest.raises(account_services.AccountError):  # nor one person alone
        account_services.unlock(volunteer.user, actor=personas["admin"].user)
    account_services.set_duress_password(volunteer.user, "blue-umbrella-7", actor=volunteer.user)
    asked = account_services.request_unlock(volunteer.user, actor=personas["admin"].user)
    with pytest.raises(account_services.AccountError):  # not by the one who asked
        account_services.decide_unlock(asked, actor=personas["admin"].user, confirm=True)
    volunteer.user.refresh_from_db()
    assert not volunteer.user.is_active
    account_services.decide_unlock(asked, actor=coordinator, confirm=True)
    volunteer.user.refresh_from_db()
    assert volunteer.user.is_active
    # Whoever forced the lock may know both passwords: neither works after the unlock; the
    # person sets a new one through the reset link sent to their own address.
    assert not volunteer.user.has_usable_password()
    assert volunteer.user.duress_password == ""


def test_duress_password_at_sign_in_fails_like_a_wrong_password_and_locks(active_case):
    case, _token, volunteer = active_case
    account_services.set_duress_password(volunteer.user, "blue-umbrella-7", actor=volunteer.user)
    client = Client()
    response = client.post(
        "/en/accounts/login/", {"login": volunteer.user.email, "password": "blue-umbrella-7"}
    )
    assert response.status_code == 200  # the form again, as for a wrong password
    assert "_auth_user_id" not in client.session
    volunteer.user.refresh_from_db()
    case.refresh_from_db()
    assert not volunteer.user.is_active
    assert case.assignee is None
    assert AuditEvent.objects.get(kind="panic").detail == {"via": "duress"}


def test_duress_password_must_differ_from_the_password(active_case):
    _case, _token, volunteer = active_case
    with pytest.raises(account_services.AccountError):
        account_services.set_duress_password(volunteer.user, PASSWORD, actor=volunteer.user)


def test_opening_a_case_is_recorded_and_shown_to_coordinators(active_case, coordinator):
    case, _token, volunteer = active_case
    assert services.get_case_for_user(volunteer.user, case.public_id) == case
    assert services.get_case_for_user(coordinator, case.public_id) == case
    log = list(services.access_log(case))
    assert {run.event.actor_pseudonym for run in log} == {"Veter", coordinator.pseudonym}


def test_who_opened_a_case_shows_one_row_per_person_per_half_hour(active_case, coordinator):
    from tests.helpers import signed_in

    case, _token, volunteer = active_case
    start = timezone.now()
    for minutes in (0, 2, 5, 9, 40):  # four openings close together, one much later
        with time_machine.travel(start + timedelta(minutes=minutes)):
            services.get_case_for_user(volunteer.user, case.public_id)
    with time_machine.travel(start + timedelta(minutes=3)):
        services.get_case_for_user(coordinator, case.public_id)
    rows = [(run.event.actor_pseudonym, run.times) for run in services.access_log(case)]
    assert rows == [("Veter", 1), ("Veter", 4), (coordinator.pseudonym, 1)]
    # Every opening stays on the record.
    assert AuditEvent.objects.filter(kind="case_accessed", actor_pseudonym="Veter").count() == 5
    page = signed_in(coordinator).get(f"/en/aid/cases/{case.public_id}/").content.decode()
    assert "opened 4 times within half an hour" in page


def test_coordinators_add_rename_and_switch_off_skills(coordinator, make_volunteer):
    skill = services.save_skill(actor=coordinator, slug="", name="Pet evacuation")
    assert skill.slug == "pet-evacuation" and skill.label == "Pet evacuation"
    with pytest.raises(services.AidError):
        services.save_skill(actor=coordinator, slug="", name="Pet evacuation")
    services.save_skill(actor=coordinator, slug="", name="", active=False, skill=skill)
    skill.refresh_from_db()
    assert not skill.active and skill.label == "pet-evacuation"
    volunteer = make_volunteer("Veter")
    with pytest.raises(services.AidError):
        services.save_skill(actor=volunteer.user, slug="", name="Sneaky")


def test_a_skill_named_in_cyrillic_gets_a_romanised_short_name(coordinator):
    from django.utils import translation

    with translation.override("ru"):
        skill = services.save_skill(actor=coordinator, slug="", name="Юридическая помощь")
    assert skill.slug == "yuridicheskaya-pomoshch"
    with translation.override("sr"):
        serbian = services.save_skill(actor=coordinator, slug="", name="Ђачки превоз")
    assert serbian.slug == "djacki-prevoz"


def test_catalogue_page_refuses_bad_input_with_a_message(coordinator):
    client = Client()
    client.force_login(coordinator, backend="krov.accounts.backends.KrovBackend")
    response = client.post("/en/aid/catalogue/", {"what": "reply", "language": "xx", "body": ""})
    assert response.status_code == 400
    assert client.post("/en/aid/catalogue/", {"what": "skill", "id": "abc"}).status_code == 404
    response = client.post(
        "/en/aid/catalogue/",
        {"what": "reply", "language": "uk", "title": "Так", "body": "Дякуємо!"},
    )
    assert response.status_code == 302


def test_a_canned_reply_is_deleted_only_with_i_am_sure_ticked(coordinator):
    from krov.aid.models import CannedReply

    client = Client()
    client.force_login(coordinator, backend="krov.accounts.backends.KrovBackend")
    reply = services.save_canned_reply(
        actor=coordinator, language="uk", title="Так", body="Дякуємо!"
    )
    page = client.get("/en/aid/catalogue/").content.decode()
    assert 'name="delete"' in page and 'name="confirm"' in page
    unsure = {"what": "reply", "id": reply.pk, "delete": "1"}
    response = client.post("/en/aid/catalogue/", unsure)
    assert response.status_code == 400
    assert "I am sure" in response.content.decode()
    assert CannedReply.objects.filter(pk=reply.pk).exists()
    # Saving an edit needs no box ticked.
    edit = {"what": "reply", "id": reply.pk, "language": "uk", "title": "Так!", "body": "Дякую"}
    assert client.post("/en/aid/catalogue/", edit).status_code == 302
    assert client.post("/en/aid/catalogue/", {**unsure, "confirm": "yes"}).status_code == 302
    assert not CannedReply.objects.filter(pk=reply.pk).exists()
