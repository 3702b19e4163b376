"""The key custodian: a case's key reaches the volunteer who took it while no coordinator's
Krov is open. `krov custodian init|run` runs here as on its own machine, against a live
Krov server over HTTP, with only its token file and its passphrase-locked key file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import pytest
from django.core.management import call_command
from django.test import Client

from krov.aid import custodian as client
from krov.aid import services
from krov.aid.models import CaseKeyGrant, Custodian, ReaderKey, TeamKey, TeamKeyGrant
from krov.core import sealing
from krov.core.models import AuditEvent
from tests.aid.test_sealed_cases import MARKER, Browser, make_team
from tests.helpers import reauthenticated, signed_in

PASSPHRASE = "the custodian's long passphrase"


@pytest.fixture
def custodian_files(tmp_path, monkeypatch):
    """A token file, a passphrase file (as a service would have) and where the key goes."""
    passphrase = tmp_path / "passphrase"
    passphrase.write_text(PASSPHRASE + "\n")
    monkeypatch.setenv(client.PASSPHRASE_ENV, str(passphrase))
    out = io.StringIO()
    call_command(
        "custodian", "add", "night-desk", "--token-file", str(tmp_path / "token"), stdout=out
    )
    assert "night-desk" in out.getvalue()
    return tmp_path


def custodian_cli(files, live_server, *args: str) -> int:
    return client.main(
        [
            args[0],
            "--url",
            live_server.url,
            "--token-file",
            str(files / "token"),
            "--key-file",
            str(files / "key.json"),
            *args[1:],
        ]
    )


def share_team_key_with_custodian(coordinator_browser: Browser) -> None:
    """A coordinator's click on "Share the team key" beside the custodian's fingerprint."""
    (waiting,) = [
        key
        for key in services.coordinators_waiting_for_team_key()
        if key.user.pseudonym == "custodian:night-desk"
    ]
    services.grant_team_key(
        actor=coordinator_browser.user,
        reader_key=waiting,
        wrapped=sealing.seal_bytes(
            coordinator_browser.team_private(),
            waiting.public_key,
            sealing.team_key_info(services.current_team_key().public_key),
        ),
    )


@pytest.mark.django_db(transaction=True)
def test_a_custodian_shares_the_case_key_with_the_volunteer_while_no_coordinator_is_online(
    live_server, custodian_files, coordinator, submit, make_volunteer, capsys
):
    coordinator_browser = make_team(coordinator)
    assert custodian_cli(custodian_files, live_server, "init") == 0
    printed = capsys.readouterr().out
    key = ReaderKey.objects.get(user__custodian__name="night-desk")
    # What it prints is what the coordinator compares before sharing the team key.
    assert services.fingerprint(key.public_key) in printed
    locked = json.loads((custodian_files / "key.json").read_text())
    assert (custodian_files / "key.json").stat().st_mode & 0o777 == 0o600
    assert locked["public"] == key.public_key and PASSPHRASE not in json.dumps(locked)

    # Before a coordinator shares the team key, a round does nothing.
    private, public = client.load_key_file(custodian_files / "key.json", PASSPHRASE)
    server = client.Server(live_server.url, (custodian_files / "token").read_text().strip())
    assert client.run_round(server, private, public).waiting_for_team_key
    share_team_key_with_custodian(coordinator_browser)

    # A volunteer takes a case at night; no coordinator's Krov is open.
    volunteer = make_volunteer("Veter")
    volunteer_browser = Browser(volunteer.user)
    case, _token = submit(MARKER)
    services.triage(case, actor=coordinator)
    offer = services.offer(case, actor=coordinator, volunteer=volunteer)
    case = services.accept_offer(offer, actor=volunteer.user)
    assert services.wrapped_case_key_for(volunteer.user, case) is None

    assert custodian_cli(custodian_files, live_server, "run", "--once") == 0
    # The volunteer's browser now opens the case; the grant is audited under the custodian.
    case.refresh_from_db()
    assert volunteer_browser.read(case, "request.description", case.description) == MARKER
    grant = AuditEvent.objects.filter(kind=AuditEvent.Kind.CASE_KEY_GRANTED).latest("at")
    assert grant.actor_pseudonym == "custodian:night-desk"
    assert grant.subject_pseudonym == "Veter"
    # A second round has nothing left to do.
    done = client.run_round(server, private, public)
    assert (done.shared, done.failed, done.waiting_for_team_key) == (0, 0, False)
    server.close()
    # The custodian's machine holds nothing but its locked key: no case text in its files.
    for path in custodian_files.iterdir():
        assert MARKER not in path.read_text()
    assert Custodian.objects.get().last_seen_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_custodian_token_opens_only_the_custodian_calls(
    live_server, custodian_files, coordinator
):
    make_team(coordinator)
    token = (custodian_files / "token").read_text().strip()
    base = live_server.url + "/custodian/v1/"
    with httpx.Client(base_url=base) as http:
        for headers in ({}, {"Authorization": "Bearer krovc_wrong"}, {"Authorization": token}):
            answer = http.get("mine", headers=headers)
            assert answer.status_code == 401
            assert "token" in answer.json()["error"]
            assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        ok = {"Authorization": f"Bearer {token}"}
        assert http.get("mine", headers=ok).json()["public_key"] == ""
        # Bad input gets a message, never a 500.
        answer = http.post("key", headers=ok, data={"public_key": "A" * 43})
        assert answer.status_code == 409 and "public key" in answer.json()["error"]
        assert http.delete("mine", headers=ok).status_code == 405
        # The key is registered once; whoever holds the token cannot swap it.
        first = sealing.KeyPair.generate()
        assert http.post("key", headers=ok, data={"public_key": first.public}).status_code == 200
        answer = http.post(
            "key", headers=ok, data={"public_key": sealing.KeyPair.generate().public}
        )
        assert answer.status_code == 409 and "Revoke" in answer.json()["error"]
        # The token alone (its file copied, not the key file) reads and writes no key, and
        # does not make the custodian look alive.
        for call in (
            lambda h: http.get("case-grants", headers=h),
            lambda h: http.post("case-grants", headers=h, data={"case": "nope"}),
            lambda h: http.get("relays", headers=h),
            lambda h: http.post("relays", headers=h, data={"message": "x"}),
        ):
            for proof in ("", "0" * 64):
                answer = call({**ok, "X-Krov-Custodian-Proof": proof})
                assert answer.status_code == 403 and "proof" in answer.json()["error"]
        assert Custodian.objects.get().last_seen_at is None
        # With the key, the challenge opens, and the calls answer (bad input: a message).
        challenge = http.get("mine", headers=ok).json()["challenge"]
        proof = sealing.open_sealed(
            challenge, first.private, sealing.custodian_proof_info(first.public)
        )
        proven = {**ok, "X-Krov-Custodian-Proof": proof}
        assert http.post("case-grants", headers=proven, data={"case": "nope"}).status_code == 409
        assert http.post("relays", headers=proven, data={"message": "x"}).status_code == 400
        assert Custodian.objects.get().last_seen_at is not None
        # The token is no session: the desk's own pages do not know it.
        page = http.get(live_server.url + "/en/aid/keys/mine/", headers=ok)
        assert page.status_code == 302 and "login" in page.headers["Location"]
    # Only the token's keyed hash is stored, and it appears in no audit entry.
    stored = Custodian.objects.get()
    assert token not in stored.token_hash
    assert not any(token in json.dumps(e.detail) for e in AuditEvent.objects.all())


def test_custodian_names_are_checked_and_unique(db):
    services.add_custodian("laptop-2")
    for bad in ("", "Laptop 2", "x" * 31, "laptop-2", "-dash"):
        with pytest.raises(services.AidError):
            services.add_custodian(bad)


def test_revoking_a_custodian_removes_its_copies_and_asks_for_a_team_key_renewal(db, coordinator):
    coordinator_browser = make_team(coordinator)
    custodian, token = services.add_custodian("night-desk")
    pair = sealing.KeyPair.generate()
    services.register_custodian_key(custodian, public_key=pair.public)
    share_team_key_with_custodian(coordinator_browser)
    assert services.team_key_grant_for(custodian.user) is not None
    page = reauthenticated(signed_in(coordinator), coordinator)
    shown = page.get("/en/aid/keys/").content.decode()
    assert "night-desk" in shown and services.fingerprint(pair.public) in shown

    url = f"/en/aid/keys/custodians/{custodian.public_id}/revoke/"
    # Without "I am sure" nothing happens, and the page says why.
    response = page.post(url, follow=True)
    assert "I am sure" in response.content.decode()
    assert services.custodian_for_token(token) is not None
    page.post(url, {"confirm": "yes"})
    assert services.custodian_for_token(token) is None
    assert not TeamKeyGrant.objects.filter(reader_key__user=custodian.user).exists()
    assert not ReaderKey.objects.filter(user=custodian.user, revoked_at__isnull=True).exists()
    assert TeamKey.objects.get(retired_at__isnull=True).renewal_requested_at is not None
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.CUSTODIAN_REVOKED).exists()


def test_only_a_recently_confirmed_coordinator_revokes_a_custodian(db, coordinator, personas):
    custodian, token = services.add_custodian("night-desk")
    url = f"/en/aid/keys/custodians/{custodian.public_id}/revoke/"
    # A volunteer (or anyone without the coordinator's role) is refused.
    volunteer = personas["volunteer"].user
    assert signed_in(volunteer).post(url, {"confirm": "yes"}).status_code == 403
    assert Client().post(url, {"confirm": "yes"}).status_code == 302
    # A coordinator whose sign-in is not fresh is sent to confirm it first.
    response = signed_in(coordinator).post(url, {"confirm": "yes"})
    assert response.status_code == 302 and "reauthenticate" in response["Location"]
    assert services.custodian_for_token(token) is not None


def test_the_custodian_command_lists_and_revokes(db):
    custodian, _token = services.add_custodian("night-desk")
    out = io.StringIO()
    call_command("custodian", "list", stdout=out)
    assert "night-desk\tno key yet\tlast seen never" in out.getvalue()
    call_command("custodian", "revoke", "night-desk", stdout=io.StringIO())
    custodian.refresh_from_db()
    assert custodian.revoked_at is not None
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("custodian", "revoke", "night-desk")


def test_adding_a_custodian_to_an_unwritable_token_file_adds_nothing(db, tmp_path):
    from django.core.management.base import CommandError

    taken = tmp_path / "token"
    taken.write_text("someone else's file\n")
    with pytest.raises(CommandError, match="token file"):
        call_command("custodian", "add", "night-desk", "--token-file", str(taken))
    assert not Custodian.objects.exists()
    assert taken.read_text() == "someone else's file\n"
    # A name that is refused leaves no token file behind.
    services.add_custodian("day-desk")
    fresh = tmp_path / "fresh-token"
    with pytest.raises(CommandError, match="exists already"):
        call_command("custodian", "add", "day-desk", "--token-file", str(fresh))
    assert not fresh.exists()
    call_command("custodian", "add", "night-desk", "--token-file", str(fresh), stdout=io.StringIO())
    assert services.custodian_for_token(fresh.read_text().strip()).name == "night-desk"
    assert fresh.stat().st_mode & 0o777 == 0o600


def test_the_custodian_client_says_what_is_wrong_in_one_line(tmp_path, capsys, monkeypatch):
    (tmp_path / "token").write_text("")
    common = ["--url", "https://127.0.0.1:9", "--token-file", str(tmp_path / "token")]
    assert client.main(["run", *common, "--key-file", str(tmp_path / "none.json")]) == 2
    assert "krov custodian:" in capsys.readouterr().err
    pair = sealing.KeyPair.generate()
    locked = sealing.lock_key(pair.private, PASSPHRASE, params={"N": 2**14, "r": 8, "p": 1})
    (tmp_path / "key.json").write_text(json.dumps(locked))
    (tmp_path / "wrong").write_text("not the passphrase")
    monkeypatch.setenv(client.PASSPHRASE_ENV, str(tmp_path / "wrong"))
    assert client.main(["run", *common, "--key-file", str(tmp_path / "key.json")]) == 2
    assert "wrong passphrase" in capsys.readouterr().err
    assert client.main(["fingerprint", "--key-file", str(tmp_path / "key.json")]) == 0
    assert capsys.readouterr().out.strip() == sealing.fingerprint(pair.public)


def test_case_grants_by_a_custodian_follow_the_same_rule_as_a_coordinators(
    db, coordinator, submit, make_volunteer
):
    """A custodian cannot wrap a case key to anyone but the volunteer who holds the case."""
    coordinator_browser = make_team(coordinator)
    custodian, _token = services.add_custodian("night-desk")
    services.register_custodian_key(custodian, public_key=sealing.KeyPair.generate().public)
    share_team_key_with_custodian(coordinator_browser)
    volunteer = make_volunteer("Veter")
    other = Browser(make_volunteer("Mira").user)
    Browser(volunteer.user)
    case, _token = submit(MARKER)
    services.triage(case, actor=coordinator)
    case = services.accept_offer(
        services.offer(case, actor=coordinator, volunteer=volunteer), actor=volunteer.user
    )
    with pytest.raises(services.AidError):
        services.custodian_grant_case_key(
            custodian,
            case_id=str(case.public_id),
            reader_key_id=str(ReaderKey.objects.get(user=other.user).public_id),
            wrapped="k1." + "A" * 80,
        )
    assert not CaseKeyGrant.objects.filter(request=case, reader_key__isnull=False).exists()


def test_a_silent_custodian_shows_on_the_coordinators_home(db, coordinator):
    from krov.aid.home import coordinator_panel

    def labels():
        return [str(item.label) for item in coordinator_panel(coordinator).items]

    assert "Key custodians not heard from" not in labels()
    custodian, _token = services.add_custodian("night-desk")
    assert "Key custodians not heard from" in labels()  # never heard from
    services.custodian_seen(custodian)
    assert "Key custodians not heard from" not in labels()


def test_the_custodian_runs_without_settings_or_database(tmp_path):
    """Its machine has Krov's package only: `krov custodian ...` never loads Django."""
    import subprocess
    import sys

    pair = sealing.KeyPair.generate()
    locked = sealing.lock_key(pair.private, PASSPHRASE, params={"N": 2**14, "r": 8, "p": 1})
    (tmp_path / "key.json").write_text(json.dumps(locked))
    (tmp_path / "bad.json").write_text(json.dumps({**locked, "public": "%%%"}))
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = [sys.executable, "-m", "krov", "custodian", "fingerprint", "--key-file"]
    done = subprocess.run(  # noqa: S603 - our own interpreter and package
        [*run, str(tmp_path / "key.json")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == sealing.fingerprint(pair.public)
    done = subprocess.run(  # noqa: S603 - our own interpreter and package
        [*run, str(tmp_path / "bad.json")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "not a Krov key file" in done.stderr


def test_a_custodians_key_is_never_replaced_even_after_a_role_change_revoked_it(db, personas):
    """Found in review: giving and taking a role on the service account revoked its key, and
    the token could then register another one."""
    from krov.accounts import roles
    from krov.accounts import services as account_services

    custodian, _token = services.add_custodian("night-desk")
    first = sealing.KeyPair.generate().public
    services.register_custodian_key(custodian, public_key=first)
    admin = personas[roles.ADMIN].user
    with pytest.raises(account_services.AccountError):  # a service account takes no role
        account_services.set_roles(custodian.user, [roles.ORGANISER], actor=admin)
    account_services.set_roles(custodian.user, [], actor=admin)
    assert services.reader_key_of(custodian.user).public_key == first
    services.revoke_reader_keys(custodian.user)  # however it was revoked ...
    with pytest.raises(services.AidError, match="Revoke"):  # ... no second key
        services.register_custodian_key(custodian, public_key=sealing.KeyPair.generate().public)


def test_the_custodian_prefix_is_reserved_and_the_client_refuses_plain_http(db):
    from krov.accounts import services as account_services

    with pytest.raises(account_services.AccountError):
        account_services.clean_pseudonym("Custodian:night-desk")
    with pytest.raises(client.CustodianError, match="https"):
        client.Server("http://krov.example", "krovc_x")
    client.Server("http://127.0.0.1:8000", "krovc_x").close()  # loopback only


def test_a_custodians_proof_of_key_holds_for_two_windows_and_no_longer(db):
    custodian, _token = services.add_custodian("proof-desk")
    pair = sealing.KeyPair.generate()
    assert services.custodian_challenge(custodian) == ""  # no key yet: nothing to prove
    services.register_custodian_key(custodian, public_key=pair.public)
    from krov.aid.services.custodians import PROOF_WINDOW_SECONDS as window

    now = 1_800_000_000.0
    proof = sealing.open_sealed(
        services.custodian_challenge(custodian, now=now),
        pair.private,
        sealing.custodian_proof_info(pair.public),
    )
    assert services.custodian_proves_key(custodian, proof, now=now)
    assert services.custodian_proves_key(custodian, proof, now=now + window)
    assert not services.custodian_proves_key(custodian, proof, now=now + 2 * window)
    # Another custodian's proof proves nothing for this one.
    other, _token = services.add_custodian("other-desk")
    assert not services.custodian_proves_key(other, proof, now=now)
    # Once its key is revoked, a proof opened with it proves nothing, even within its window.
    services.revoke_reader_keys(custodian.user)
    assert not services.custodian_proves_key(custodian, proof, now=now)


def test_a_lapsed_proof_makes_the_running_custodian_try_again_not_stop():
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            403, json={"error": "needs proof"}, headers={client.PROOF_HEADER: "needed"}
        )

    server = client.Server(
        "http://127.0.0.1:8000", "krovc_x", transport=httpx.MockTransport(answer)
    )
    with pytest.raises(client.ServerTrouble, match="new proof"):
        server.get("case-grants")
    server.close()

    def refused(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "not yours"})

    other = client.Server(
        "http://127.0.0.1:8000", "krovc_x", transport=httpx.MockTransport(refused)
    )
    with pytest.raises(client.CustodianError) as raised:
        other.get("case-grants")
    assert not isinstance(raised.value, client.ServerTrouble)
    other.close()
