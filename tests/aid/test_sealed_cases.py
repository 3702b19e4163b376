"""Sealed cases: once the coordinators have a team key, a web request, its messages and its
notes are stored so that no key on the server opens them.

The browsers are played here by key pairs made with the same library the server uses
(krov.core.sealing); tests/core/test_sealed_js.py proves the browser module speaks the same
format, and tests/browser/test_sealed_flow.py runs the pages in Chromium."""

from __future__ import annotations

import json
import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.db import connection

from krov.accounts import roles
from krov.accounts import services as account_services
from krov.aid import services
from krov.aid.models import CaseKeyGrant, HelpRequest, Message, Note, ReaderKey, TeamKeyGrant
from krov.core import crypto, sealing
from krov.core.fields import encrypted_fields
from tests.helpers import reauthenticated, signed_in, soup

pytestmark = pytest.mark.django_db

MARKER = "Marker-7f3c: my brother is in Berdiansk, the checkpoint at Vasylivka"


class Browser:
    """What a reader's browser holds: the private half of their reader key."""

    def __init__(self, user):
        self.user = user
        self.pair = sealing.KeyPair.generate()
        services.register_reader_key(user, public_key=self.pair.public)

    def team_private(self) -> bytes:
        grant = services.team_key_grant_for(self.user)
        assert grant is not None
        return sealing.open_bytes(
            grant.wrapped, self.pair.private, sealing.team_key_info(grant.team_key.public_key)
        )

    def case_private(self, case: HelpRequest) -> bytes:
        keys = services.wrapped_case_key_for(self.user, case)
        assert keys is not None, "this reader holds no key for the case"
        holder = self.pair.private
        if keys["team_key"]:
            holder = sealing.open_bytes(
                keys["team_key"], holder, sealing.team_key_info(keys["team_public"])
            )
        return sealing.open_bytes(
            keys["case_key"], holder, sealing.case_key_info(str(case.public_id))
        )

    def read(self, case: HelpRequest, field: str, value: str) -> str:
        return sealing.open_sealed(
            value, self.case_private(case), sealing.content_info(str(case.public_id), field)
        )

    def share_pending_case_keys(self) -> int:
        """What a coordinator's open Krov does in the background (aid/keys.js)."""
        team = self.team_private()
        shared = 0
        for pending in services.pending_case_grants(self.user):
            info = sealing.case_key_info(pending["case"])
            case_private = sealing.open_bytes(pending["case_key"], team, info)
            services.grant_case_key(
                HelpRequest.objects.get(public_id=pending["case"]),
                actor=self.user,
                reader_key=ReaderKey.objects.get(public_id=pending["reader_key"]),
                wrapped=sealing.seal_bytes(case_private, pending["reader_public"], info),
            )
            shared += 1
        return shared

    def share_team_key_with(self, other: Browser) -> None:
        """A coordinator's click on "Share the team key" for `other`, the one waiting."""
        (waiting,) = [
            key for key in services.coordinators_waiting_for_team_key() if key.user == other.user
        ]
        services.grant_team_key(
            actor=self.user,
            reader_key=waiting,
            wrapped=sealing.seal_bytes(
                self.team_private(),
                other.pair.public,
                sealing.team_key_info(services.current_team_key().public_key),
            ),
        )


def new_coordinator(email: str) -> Browser:
    """Another coordinator, with a second factor and a key made in their browser."""
    user = account_services.create_account(
        email=email, pseudonym=email.split("@")[0].title(), password="x" * 16, roles=[roles.MEMBER]
    )
    account_services.set_roles(user, [roles.COORDINATOR], actor=None)
    TOTP.activate(user, generate_totp_secret())
    return Browser(user)


@pytest.fixture
def coordinator_browser(coordinator):
    return make_team(coordinator)


@pytest.fixture
def sealed_case(coordinator_browser, submit, make_volunteer, coordinator):
    """A sealed web case taken by volunteer Veter, whose browser has a key."""
    volunteer = make_volunteer("Veter")
    volunteer_browser = Browser(volunteer.user)
    case, token = submit(MARKER)
    services.triage(case, actor=coordinator)
    offer = services.offer(case, actor=coordinator, volunteer=volunteer)
    assert offer is not None
    case = services.accept_offer(offer, actor=volunteer.user)
    return case, token, volunteer, volunteer_browser


def field_key_plaintexts() -> list[str]:
    """Every encrypted column of every row, opened with the server's field keys: what a
    seized server (keys included) reads."""
    found = []
    with connection.cursor() as cursor:
        for model, field in encrypted_fields():
            cursor.execute(f"SELECT {field.column} FROM {model._meta.db_table}")  # noqa: S608
            for (value,) in cursor.fetchall():
                if value:
                    found.append(crypto.decrypt(value))
    return found


def test_without_a_team_key_requests_are_taken_in_under_the_field_keys_as_before(submit):
    case, _token = submit(MARKER)
    assert not case.is_sealed
    assert HelpRequest.objects.get(pk=case.pk).description == MARKER


def test_a_web_request_is_sealed_before_it_is_written(coordinator_browser, submit):
    case, _token = submit(MARKER)
    stored = HelpRequest.objects.get(pk=case.pk)
    assert stored.is_sealed
    assert sealing.is_sealed(stored.description)
    assert MARKER not in json.dumps(field_key_plaintexts())
    assert coordinator_browser.read(stored, "request.description", stored.description) == MARKER


def test_no_key_on_the_server_opens_the_request(coordinator_browser, submit, settings):
    case, _token = submit(MARKER)
    stored = HelpRequest.objects.get(pk=case.pk).description
    info = sealing.content_info(str(case.public_id), "request.description")
    server_secrets = [settings.SECRET_KEY.encode(), *(k.encode() for k in settings.KROV_FIELD_KEYS)]
    for secret in server_secrets:
        candidate = (secret * 32)[:32]
        with pytest.raises(sealing.SealingError):
            sealing.open_sealed(stored, candidate, info)
    # Every wrapped key the database holds is ciphertext too: none is a bare private key.
    for grant in CaseKeyGrant.objects.all():
        assert sealing.is_sealed(grant.wrapped)
    for grant in TeamKeyGrant.objects.all():
        assert sealing.is_sealed(grant.wrapped)


def test_a_sealed_value_does_not_open_in_another_case_or_field(coordinator_browser, submit):
    first, _t = submit(MARKER)
    second, _t2 = submit("another request entirely")
    first = HelpRequest.objects.get(pk=first.pk)
    with pytest.raises(sealing.SealingError):
        coordinator_browser.read(first, "note", first.description)
    second = HelpRequest.objects.get(pk=second.pk)
    with pytest.raises(sealing.SealingError):
        # The first case's text moved into the second case does not open there.
        coordinator_browser.read(second, "request.description", first.description)


def test_replies_notes_and_notices_are_sealed_and_the_relay_still_has_the_text(sealed_case):
    case, _token, volunteer, _browser = sealed_case
    reply = services.post_reply(case, actor=volunteer.user, body="Answer " + MARKER)
    assert reply.plaintext == "Answer " + MARKER
    services.add_note(case, actor=volunteer.user, body="Note " + MARKER)
    services.close_case(case, actor=volunteer.user, outcome=HelpRequest.Outcome.HELPED)
    for message in Message.objects.filter(request=case):
        assert sealing.is_sealed(message.body)
    for note in Note.objects.filter(request=case):
        assert sealing.is_sealed(note.body)
    assert MARKER not in json.dumps(field_key_plaintexts())


def test_the_requester_link_opens_the_conversation_for_one_request(sealed_case, client):
    case, token, volunteer, _browser = sealed_case
    services.post_reply(case, actor=volunteer.user, body="We can help: " + MARKER)
    # With JavaScript the page holds ciphertext and the browser opens it ...
    served = client.get(f"/uk/help/c/{token}/").content.decode()
    assert MARKER not in served and "data-sealed" in served and "aid/requester.js" in served
    # ... without it, the page's link has the server open it for that one request.
    page = soup(client.get(f"/uk/help/c/{token}/?open=server"))
    assert MARKER in page.select_one("#conversation").get_text()
    assert page.select_one(".request-text").get_text() == MARKER  # what they asked
    # Another link opens nothing: the wrap is bound to the link.
    wrong = services.requester_conversation(case, token + "x")
    assert wrong and not any(MARKER in (m.plaintext or "") for m in wrong)


def test_a_volunteer_opens_the_case_only_after_a_coordinator_shares_its_key(
    sealed_case, coordinator_browser
):
    case, _token, volunteer, volunteer_browser = sealed_case
    assert services.wrapped_case_key_for(volunteer.user, case) is None
    assert coordinator_browser.share_pending_case_keys() == 1
    assert coordinator_browser.share_pending_case_keys() == 0
    stored = HelpRequest.objects.get(pk=case.pk)
    assert volunteer_browser.read(stored, "request.description", stored.description) == MARKER


def test_a_volunteer_loses_the_case_key_when_the_case_leaves_them(sealed_case, coordinator_browser):
    case, _token, volunteer, _browser = sealed_case
    coordinator_browser.share_pending_case_keys()
    services.hand_over(case, actor=volunteer.user, reason="I cannot drive this week")
    assert services.wrapped_case_key_for(volunteer.user, case) is None
    assert not CaseKeyGrant.objects.filter(request=case, reader_key__isnull=False).exists()


def test_a_case_key_is_shared_only_with_the_volunteer_who_holds_the_case(
    sealed_case, coordinator_browser, make_volunteer
):
    case, _token, _volunteer, _browser = sealed_case
    stranger = Browser(make_volunteer("Stranger").user)
    team = coordinator_browser.team_private()
    info = sealing.case_key_info(str(case.public_id))
    keys = services.wrapped_case_key_for(coordinator_browser.user, case)
    case_private = sealing.open_bytes(keys["case_key"], team, info)
    with pytest.raises(services.AidError):
        services.grant_case_key(
            case,
            actor=coordinator_browser.user,
            reader_key=services.reader_key_of(stranger.user),
            wrapped=sealing.seal_bytes(case_private, stranger.pair.public, info),
        )


def test_only_a_coordinator_holding_the_team_key_shares_keys(sealed_case, make_volunteer):
    case, _token, volunteer, volunteer_browser = sealed_case
    with pytest.raises(services.AidError):
        services.grant_case_key(
            case,
            actor=volunteer.user,
            reader_key=services.reader_key_of(volunteer.user),
            wrapped=sealing.seal_bytes(b"x" * 32, volunteer_browser.pair.public, "x"),
        )
    assert services.pending_case_grants(volunteer.user) == []


def test_the_team_key_is_made_once_and_shared_coordinator_to_coordinator(
    coordinator_browser, make_volunteer
):
    second_browser = new_coordinator("second@example.org")
    second = second_browser.user
    other_team = sealing.KeyPair.generate()
    with pytest.raises(services.AidError):
        services.create_team_key(
            actor=second,
            public_key=other_team.public,
            wrapped_for_self=sealing.seal_bytes(b"k" * 32, second_browser.pair.public, "x"),
        )
    waiting = services.coordinators_waiting_for_team_key()
    assert [key.user for key in waiting] == [second]
    coordinator_browser.share_team_key_with(second_browser)
    assert second_browser.team_private() == coordinator_browser.team_private()
    assert services.coordinators_waiting_for_team_key() == []


def test_a_volunteer_cannot_make_the_team_key(db, make_volunteer):
    volunteer = make_volunteer("Lone")
    browser = Browser(volunteer.user)
    team = sealing.KeyPair.generate()
    with pytest.raises(services.AidError):
        services.create_team_key(
            actor=volunteer.user,
            public_key=team.public,
            wrapped_for_self=sealing.seal_bytes(team.private, browser.pair.public, "x"),
        )


def test_reader_keys_need_a_second_factor_and_a_desk_role(personas):
    member = personas[roles.MEMBER].user
    with pytest.raises(services.AidError):
        services.register_reader_key(member, public_key=sealing.KeyPair.generate().public)


def test_purge_destroys_every_wrapped_case_key(sealed_case, coordinator_browser, settings):
    from datetime import timedelta

    from django.utils import timezone

    case, token, volunteer, _browser = sealed_case
    coordinator_browser.share_pending_case_keys()
    services.close_case(case, actor=volunteer.user, outcome=HelpRequest.Outcome.HELPED)
    services.purge(now=timezone.now() + timedelta(days=settings.KROV_RETENTION_DAYS + 8))
    assert not CaseKeyGrant.objects.filter(request_id=case.pk).exists()
    assert HelpRequest.objects.get(pk=case.pk).requester_wrap == ""


def test_panic_revokes_the_reader_key_and_every_copy_made_for_it(sealed_case, coordinator_browser):
    case, _token, volunteer, _browser = sealed_case
    coordinator_browser.share_pending_case_keys()
    account_services.panic(volunteer.user, via="web")
    assert services.reader_key_of(volunteer.user) is None
    assert not CaseKeyGrant.objects.filter(reader_key__user=volunteer.user).exists()
    account_services.panic(coordinator_browser.user, via="web")
    assert not TeamKeyGrant.objects.exists()


def test_the_case_page_carries_ciphertext_and_the_wrapped_keys_only(
    sealed_case, coordinator_browser
):
    case, _token, volunteer, _browser = sealed_case
    services.post_reply(case, actor=volunteer.user, body="Reply " + MARKER)
    services.add_note(case, actor=volunteer.user, body="Note " + MARKER)
    response = signed_in(coordinator_browser.user).get(f"/en/aid/cases/{case.public_id}/")
    assert response.status_code == 200
    assert "Marker-7f3c" not in response.content.decode()
    page = soup(response)
    fields = {span["data-field"] for span in page.select("[data-sealed]")}
    assert fields == {"message", "note", "request.description"}
    keys = json.loads(page.select_one("#sealed-keys").string)
    assert keys["case"] == str(case.public_id)
    assert sealing.is_sealed(keys["case_key"]) and sealing.is_sealed(keys["team_key"])
    script = page.select_one("script[type=module][src*='aid/keys']")
    assert script is not None


def test_key_endpoints_answer_bad_input_with_a_message(sealed_case, coordinator_browser):
    client = reauthenticated(signed_in(coordinator_browser.user), coordinator_browser.user)
    for url, data in [
        ("/en/aid/keys/reader/", {"public_key": "not a key"}),
        ("/en/aid/keys/reader/", {}),
        ("/en/aid/keys/team/grants/", {"reader_key": "nope", "wrapped": "k1.x"}),
        ("/en/aid/keys/cases/grants/", {"case": "", "reader_key": "", "wrapped": ""}),
        ("/en/aid/keys/team/", {"public_key": sealing.KeyPair.generate().public}),
        ("/en/aid/keys/reader/", {"public_key": "A" * 43}),  # the zero point: low order
        ("/en/aid/keys/reader/", {"public_key": sealing.KeyPair.generate().public + "="}),
    ]:
        response = client.post(url, data)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert response.json()["error"]


def test_pending_grants_list_what_the_browser_needs(sealed_case, coordinator_browser):
    case, _token, volunteer, volunteer_browser = sealed_case
    response = signed_in(coordinator_browser.user).get("/en/aid/keys/cases/grants/")
    (pending,) = response.json()["pending"]
    assert pending["case"] == str(case.public_id)
    assert pending["reader_public"] == volunteer_browser.pair.public
    assert re.fullmatch(r"k1\.[A-Za-z0-9_-]+", pending["case_key"])


def rotate(browser: Browser, *, cases: dict[str, str] | None = None):
    """What a coordinator's browser does to renew the team key (aid/keys.js)."""
    old_team = browser.team_private()
    fresh = sealing.KeyPair.generate()
    rewrapped = {}
    for item in services.rotation_material(browser.user):
        info = sealing.case_key_info(item["case"])
        case_private = sealing.open_bytes(item["case_key"], old_team, info)
        rewrapped[item["case"]] = sealing.seal_bytes(case_private, fresh.public, info)
    holders = {
        holder["reader_key"]: sealing.seal_bytes(
            fresh.private, holder["public_key"], sealing.team_key_info(fresh.public)
        )
        for holder in services.rotation_holders(browser.user)
    }
    services.rotate_team_key(
        actor=browser.user,
        public_key=fresh.public,
        wrapped_for_self=sealing.seal_bytes(
            fresh.private, browser.pair.public, sealing.team_key_info(fresh.public)
        ),
        cases=rewrapped if cases is None else cases,
        holders=holders,
    )
    return old_team


def test_renewing_the_team_key_destroys_every_copy_of_the_old_one(
    coordinator_browser, submit, settings
):
    from datetime import timedelta

    from django.utils import timezone

    case, _token = submit(MARKER)
    case = HelpRequest.objects.get(pk=case.pk)
    assert not services.team_key_rotation_due()
    later = timezone.now() + timedelta(days=settings.KROV_RETENTION_DAYS)
    assert services.team_key_rotation_due(now=later)
    old_team_public = services.current_team_key().public_key
    old_team = rotate(coordinator_browser)
    # The coordinator reads on with the new key ...
    assert coordinator_browser.read(case, "request.description", case.description) == MARKER
    # ... and no wrapped copy of the old team key, nor any case key wrapped to it, is left:
    # a copy of the database from before the renewal opens for nobody who lacks a reader key.
    assert not TeamKeyGrant.objects.filter(team_key__public_key=old_team_public).exists()
    assert not CaseKeyGrant.objects.filter(team_key__public_key=old_team_public).exists()
    grant = CaseKeyGrant.objects.get(request=case, team_key__isnull=False)
    with pytest.raises(sealing.SealingError):
        sealing.open_bytes(grant.wrapped, old_team, sealing.case_key_info(str(case.public_id)))


def test_renewing_refuses_when_cases_changed_meanwhile(coordinator_browser, submit):
    submit(MARKER)
    with pytest.raises(services.AidError):
        rotate(coordinator_browser, cases={})
    assert services.current_team_key().retired_at is None


def test_a_case_that_arrives_during_a_renewal_comes_back_to_be_wrapped_and_then_it_finishes(
    coordinator_browser, submit
):
    """Under steady intake a renewal must not start over for ever: the server answers with
    only what arrived meanwhile, the browser wraps that and sends everything again."""
    first, _token = submit(MARKER)
    browser = coordinator_browser
    old_team = browser.team_private()
    fresh = sealing.KeyPair.generate()

    def wrap(items) -> dict[str, str]:
        return {
            item["case"]: sealing.seal_bytes(
                sealing.open_bytes(item["case_key"], old_team, sealing.case_key_info(item["case"])),
                fresh.public,
                sealing.case_key_info(item["case"]),
            )
            for item in items
        }

    cases = wrap(services.rotation_material(browser.user))
    late, _token = submit("Marker-late: arrived while the browser re-wrapped")
    renewal = {
        "actor": browser.user,
        "public_key": fresh.public,
        "wrapped_for_self": sealing.seal_bytes(
            fresh.private, browser.pair.public, sealing.team_key_info(fresh.public)
        ),
        "holders": {},
    }
    with pytest.raises(services.RotationChanged) as changed:
        services.rotate_team_key(cases=cases, **renewal)
    assert [item["case"] for item in changed.value.cases] == [str(late.public_id)]
    assert changed.value.holders == []
    # A case purged meanwhile is simply left out; nothing is made for it.
    cases |= wrap(changed.value.cases) | {"a-case-purged-meanwhile": cases[str(first.public_id)]}
    team = services.rotate_team_key(cases=cases, **renewal)
    assert team.public_key == fresh.public
    for case in (first, late):
        grant = CaseKeyGrant.objects.get(request=case, team_key=team)
        info = sealing.case_key_info(str(case.public_id))
        assert sealing.open_bytes(grant.wrapped, fresh.private, info)
    assert CaseKeyGrant.objects.filter(team_key=team).count() == 2


def test_the_rotate_endpoint_answers_what_arrived_meanwhile_for_the_browser_to_wrap(
    coordinator_browser, submit
):
    case, _token = submit(MARKER)
    client = reauthenticated(signed_in(coordinator_browser.user), coordinator_browser.user)
    fresh = sealing.KeyPair.generate()
    response = client.post(
        "/en/aid/keys/team/rotate/",
        {
            "public_key": fresh.public,
            "wrapped": sealing.seal_bytes(
                fresh.private,
                coordinator_browser.pair.public,
                sealing.team_key_info(fresh.public),
            ),
            "cases": "{}",
            "holders": "{}",
        },
    )
    assert response.status_code == 409
    answer = response.json()
    assert answer["error"]
    (missing,) = answer["missing"]["cases"]
    assert missing["case"] == str(case.public_id) and sealing.is_sealed(missing["case_key"])
    assert services.current_team_key().retired_at is None


def test_only_a_coordinator_holding_the_team_key_renews_it(sealed_case):
    _case, _token, volunteer, volunteer_browser = sealed_case
    fresh = sealing.KeyPair.generate()
    with pytest.raises(services.AidError):
        services.rotate_team_key(
            actor=volunteer.user,
            public_key=fresh.public,
            wrapped_for_self=sealing.seal_bytes(fresh.private, volunteer_browser.pair.public, "x"),
            cases={},
        )


def test_rotate_endpoint_answers_bad_input_with_a_message(coordinator_browser):
    client = reauthenticated(signed_in(coordinator_browser.user), coordinator_browser.user)
    deep = "[" * 100_000 + "]" * 100_000
    for data in [
        {},
        {"cases": "not json"},
        {"cases": "[1, 2]"},
        {"cases": '{"a": 1}'},
        {"cases": deep},
    ]:
        response = client.post("/en/aid/keys/team/rotate/", data)
        assert response.status_code == 400, data
        assert response.json()["error"]


def make_team(coordinator) -> Browser:
    if not account_services.has_mfa(coordinator):
        TOTP.activate(coordinator, generate_totp_secret())
    browser = Browser(coordinator)
    team = sealing.KeyPair.generate()
    services.create_team_key(
        actor=coordinator,
        public_key=team.public,
        wrapped_for_self=sealing.seal_bytes(
            team.private, browser.pair.public, sealing.team_key_info(team.public)
        ),
    )
    return browser


def test_seal_cases_seals_closed_cases_from_before_and_leaves_open_ones_for_their_visit(
    active_case, submit, coordinator
):
    from django.core.management import call_command

    case, token, volunteer = active_case
    services.post_reply(case, actor=volunteer.user, body="Old reply " + MARKER)
    services.add_note(case, actor=volunteer.user, body="Old note " + MARKER)
    closed, _t = submit("Closed before sealing " + MARKER)
    services.close_case(closed, actor=coordinator, outcome=HelpRequest.Outcome.HELPED)
    assert MARKER in json.dumps(field_key_plaintexts())

    browser = make_team(coordinator)
    call_command("seal-cases")
    closed = HelpRequest.objects.get(pk=closed.pk)
    assert closed.is_sealed and not closed.requester_wrap
    assert browser.read(closed, "request.description", closed.description).startswith("Closed")
    assert not HelpRequest.objects.get(pk=case.pk).is_sealed

    # The open case is sealed when its requester comes back with the link, which it wraps.
    conversation = services.requester_conversation(case, token)
    assert any(m.plaintext == "Old reply " + MARKER for m in conversation)
    case = HelpRequest.objects.get(pk=case.pk)
    assert case.is_sealed and case.requester_wrap
    assert MARKER not in json.dumps(field_key_plaintexts())
    note = Note.objects.get(request=case, body__isnull=False, kind=Note.Kind.NOTE)
    assert browser.read(case, "note", note.body) == "Old note " + MARKER


def test_seal_cases_with_open_tells_the_requester_honestly(active_case, coordinator, client):
    from django.core.management import call_command

    case, token, volunteer = active_case
    services.post_reply(case, actor=volunteer.user, body="Old reply " + MARKER)
    make_team(coordinator)
    call_command("seal-cases", "--open")
    page = soup(client.get(f"/uk/help/c/{token}/?open=server"))
    text = page.select_one("#conversation").get_text()
    assert MARKER not in text and "k1." not in text


def test_seal_cases_refuses_without_a_team_key(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError):
        call_command("seal-cases")


def test_deploy_check_says_when_cases_are_not_sealed(submit, coordinator):
    from krov.aid.checks import check_sealing

    assert [w.id for w in check_sealing()] == ["krov.W010"]
    submit("from before sealing")
    make_team(coordinator)
    assert [w.id for w in check_sealing()] == ["krov.W011"]
    from django.core.management import call_command

    call_command("seal-cases", "--open")
    assert check_sealing() == []


def test_a_stolen_session_alone_cannot_register_a_key(sealed_case, coordinator_browser):
    _case, _token, volunteer, _browser = sealed_case
    attacker = sealing.KeyPair.generate()
    response = signed_in(volunteer.user).post(
        "/en/aid/keys/reader/", {"public_key": attacker.public}
    )
    assert response.status_code == 401
    assert response.json()["reauthenticate"].endswith("/accounts/reauthenticate/")
    assert services.reader_key_of(volunteer.user).public_key != attacker.public


def test_a_new_key_is_told_to_its_owner(sealed_case):
    from krov.core.models import Notification

    _case, _token, volunteer, _browser = sealed_case
    client = reauthenticated(signed_in(volunteer.user), volunteer.user)
    before = Notification.objects.filter(recipient=volunteer.user, kind="aid_new_key").count()
    fresh = sealing.KeyPair.generate()
    assert client.post("/en/aid/keys/reader/", {"public_key": fresh.public}).status_code == 200
    after = Notification.objects.filter(recipient=volunteer.user, kind="aid_new_key").count()
    assert after == before + 1
    # The old key's copies are gone: what was shared with it must be shared again.
    assert not CaseKeyGrant.objects.filter(reader_key__user=volunteer.user).exists()


def test_the_panic_page_opens_and_the_browser_forgets_its_keys(sealed_case):
    _case, _token, volunteer, _browser = sealed_case
    client = signed_in(volunteer.user)
    page = soup(client.get("/en/account/panic/"))
    assert page.select_one("form[data-forget-keys]") is not None
    assert page.select_one("script[src*='forget-keys']") is not None
    done = client.post("/en/account/panic/", follow=True)
    assert soup(done).select_one("script[src*='forget-keys'][data-now]") is not None
    assert services.reader_key_of(volunteer.user) is None


def test_sealed_requests_are_not_merged(coordinator_browser, submit, coordinator):
    first, _t = submit(MARKER)
    second, _t2 = submit("the same person again")
    with pytest.raises(services.AidError):
        services.merge(second, first, actor=coordinator)


def test_a_broken_link_wrap_gives_a_page_not_an_error(sealed_case, client):
    case, token, volunteer, _browser = sealed_case
    services.post_reply(case, actor=volunteer.user, body="Reply " + MARKER)
    HelpRequest.objects.filter(pk=case.pk).update(requester_wrap="s1.AAAA")
    response = client.get(f"/uk/help/c/{token}/?open=server")
    assert response.status_code == 200
    assert MARKER not in response.content.decode()


def test_losing_the_role_revokes_the_keys_and_a_leaving_coordinator_renews_the_team_key(
    sealed_case, coordinator_browser
):
    case, _token, volunteer, _browser = sealed_case
    coordinator_browser.share_pending_case_keys()
    account_services.set_roles(volunteer.user, [roles.MEMBER], actor=None)
    assert services.reader_key_of(volunteer.user) is None
    assert not services.team_key_rotation_due()
    account_services.set_roles(coordinator_browser.user, [roles.MEMBER], actor=None)
    assert services.team_key_rotation_due()


def test_the_desk_pages_carry_a_session_bound_device_key(sealed_case):
    _case, _token, volunteer, _browser = sealed_case
    client = signed_in(volunteer.user)
    first = soup(client.get("/en/aid/")).select_one("#krov-keys")["data-device-key"]
    again = soup(client.get("/en/aid/keys/")).select_one("#krov-keys")["data-device-key"]
    assert len(first) >= 40 and first == again
    other = soup(signed_in(volunteer.user).get("/en/aid/")).select_one("#krov-keys")
    assert other["data-device-key"] != first  # another session, another key


def test_a_sealed_web_case_reaches_telegram_only_as_a_notice_to_answer(sealed_case):
    from krov.telegram import services as telegram
    from krov.telegram.models import Chat, Outbound

    case, _token, volunteer, _browser = sealed_case
    chat = telegram.get_or_create_chat(777000111)
    Chat.objects.filter(pk=chat.pk).update(volunteer=volunteer)
    chat.refresh_from_db()
    telegram.send_case_to_volunteer(case, chat)
    services.post_requester_message(case, body="From the requester " + MARKER)
    texts = [json.dumps(row.params) for row in Outbound.objects.filter(chat=chat)]
    assert texts and not any("k1." in text or "Marker" in text for text in texts)
    # The notices route the volunteer's reply to the case (answered from Telegram).
    assert Outbound.objects.filter(chat=chat, case=case).count() == 2


def test_a_renewal_keeps_every_coordinator_who_held_the_team_key(coordinator_browser, submit):
    second_browser = new_coordinator("second@example.org")
    coordinator_browser.share_team_key_with(second_browser)
    case, _token = submit(MARKER)
    rotate(coordinator_browser)
    case = HelpRequest.objects.get(pk=case.pk)
    assert second_browser.read(case, "request.description", case.description) == MARKER
    assert services.coordinators_waiting_for_team_key() == []


def test_a_renewal_that_leaves_out_a_coordinator_is_refused(coordinator_browser, submit):
    coordinator_browser.share_team_key_with(new_coordinator("third@example.org"))
    fresh = sealing.KeyPair.generate()
    with pytest.raises(services.AidError):
        services.rotate_team_key(
            actor=coordinator_browser.user,
            public_key=fresh.public,
            wrapped_for_self=sealing.seal_bytes(
                fresh.private, coordinator_browser.pair.public, sealing.team_key_info(fresh.public)
            ),
            cases={},
            holders={},
        )


def test_a_volunteers_page_can_ask_for_its_case_key_once_shared(sealed_case, coordinator_browser):
    case, _token, volunteer, _browser = sealed_case
    client = signed_in(volunteer.user)
    url = f"/en/aid/cases/{case.public_id}/keys/"
    assert "case_key" not in client.get(url).json()
    coordinator_browser.share_pending_case_keys()
    assert sealing.is_sealed(client.get(url).json()["case_key"])


def test_the_keys_page_asks_to_confirm_before_making_keys(sealed_case):
    _case, _token, volunteer, _browser = sealed_case
    page = soup(signed_in(volunteer.user).get("/en/aid/keys/"))
    assert page.select_one("form[data-action=create]") is None
    assert page.select_one("a[href*='reauthenticate']") is not None
    confirmed = reauthenticated(signed_in(volunteer.user), volunteer.user)
    assert soup(confirmed.get("/en/aid/keys/")).select_one("form[data-action=create]")


def test_a_copy_of_a_case_key_that_does_not_open_is_shared_again(sealed_case, coordinator_browser):
    case, _token, volunteer, _browser = sealed_case
    services.grant_case_key(
        case,
        actor=coordinator_browser.user,
        reader_key=services.reader_key_of(volunteer.user),
        wrapped=sealing.seal_bytes(b"x" * 32, sealing.KeyPair.generate().public, "x"),
    )
    assert services.pending_case_grants(coordinator_browser.user) == []
    client = signed_in(volunteer.user)
    assert client.post(f"/en/aid/cases/{case.public_id}/keys/").status_code == 200
    assert coordinator_browser.share_pending_case_keys() == 1


def test_sharing_the_team_key_a_renewal_just_retired_is_refused(
    coordinator_browser, submit, monkeypatch
):
    """A coordinator's browser read the team key before a renewal committed and shares it
    after: the old key is retired, so the share is refused (the new one is shared instead),
    and nobody is left holding only a destroyed key."""
    from krov.aid.services import keys as key_services

    old_grant = services.team_key_grant_for(coordinator_browser.user)
    rotate(coordinator_browser)
    late = new_coordinator("late@example.org")
    monkeypatch.setattr(key_services, "team_key_grant_for", lambda user: old_grant)
    with pytest.raises(services.AidError, match="renewed"):
        key_services.grant_team_key(
            actor=coordinator_browser.user,
            reader_key=services.reader_key_of(late.user),
            wrapped=sealing.seal_bytes(b"x" * 32, late.pair.public, "krov/v1/nothing"),
        )
    assert not TeamKeyGrant.objects.filter(reader_key__user=late.user).exists()
