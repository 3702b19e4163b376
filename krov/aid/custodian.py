"""`krov custodian init|run|fingerprint`: the key custodian, on a machine that is not the
server (docs/operations.md, "The key custodian").

It does, unattended, what a coordinator's open Krov does in the background
(krov/aid/static/aid/keys.js, `shareOnce`): with the team key, which a coordinator shared
with it, it opens the key of each case a volunteer took and wraps it to that volunteer's
public key, and it seals answers that wait for a worker again to the running workers' keys.
It never renews the team key (that takes a person and a fresh sign-in) and opens no case
content other than those waiting answers, which it only passes on.

This module imports no Django: the custodian's machine has no database and no settings,
only Krov's package, a token file and its key file.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from krov.core import sealing

logger = logging.getLogger("krov.custodian")

PASSPHRASE_ENV = "KROV_CUSTODIAN_PASSPHRASE_FILE"  # noqa: S105 - a variable's name
EVERY_SECONDS = 20
PROOF_HEADER = "X-Krov-Custodian-Proof"  # as krov/aid/services/custodians.py


class CustodianError(Exception):
    """Something the operator has to fix; the message says what."""


class ServerTrouble(CustodianError):
    """The server answered 5xx (or not as expected): a later round tries again."""


@dataclass
class Round:
    """What one round did (counts only: a custodian's log names no case and no person)."""

    shared: int = 0
    resent: int = 0
    failed: int = 0
    waiting_for_team_key: bool = False
    rotation_due: bool = False


class Server:
    """The server's custodian calls, over HTTPS with the token."""

    def __init__(
        self, url: str, token: str, *, verify: bool | str = True, transport=None, timeout=15.0
    ):
        parsed = httpx.URL(url)
        loopback = parsed.host in {"localhost", "127.0.0.1", "::1", "testserver"}
        if not (parsed.scheme == "https" or (parsed.scheme == "http" and loopback)):
            # The token would travel in the clear.
            raise CustodianError("The server's address starts with https://.")
        self.client = httpx.Client(
            base_url=url.rstrip("/") + "/custodian/v1/",
            headers={"Authorization": f"Bearer {token}"},
            verify=verify,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self.client.close()

    def _answer(self, response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 401:
            raise CustodianError(
                data.get("error") or "The server does not know this token (revoked?)."
            )
        status = response.status_code
        if status >= 500:
            raise ServerTrouble(f"The server answered {status}.")
        if status == 403 and response.headers.get(PROOF_HEADER) == "needed":
            # The proof lapsed (a long round, a clock jump, the key changed on the server):
            # the next round fetches a new challenge; nothing to stop for.
            raise ServerTrouble("The server asks for a new proof of key.")
        if not 200 <= status < 300:
            raise CustodianError(data.get("error") or f"The server answered {status}.")
        return data

    def prove(self, challenge: str, private: bytes, public: str) -> None:
        """Open the server's challenge with the key and send it with the next calls: the
        server then knows this is the custodian's machine, not only its token."""
        if not challenge:
            return
        proof = sealing.open_sealed(challenge, private, sealing.custodian_proof_info(public))
        self.client.headers[PROOF_HEADER] = proof

    def get(self, path: str) -> dict:
        return self._answer(self.client.get(path))

    def post(self, path: str, fields: dict) -> dict:
        return self._answer(self.client.post(path, data=fields))


# --- the key file ------------------------------------------------------------------------------


def read_passphrase(*, confirm: bool = False) -> str:
    """From the file named by KROV_CUSTODIAN_PASSPHRASE_FILE (a service), else asked for."""
    path = os.environ.get(PASSPHRASE_ENV)
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    passphrase = getpass.getpass("Passphrase for the custodian's key: ")
    if confirm and getpass.getpass("The same passphrase again: ") != passphrase:
        raise CustodianError("The two passphrases differ.")
    return passphrase


def make_key_file(path: Path, passphrase: str, *, params=None) -> str:
    """A new key pair; the private half only locked under the passphrase, in `path`."""
    if path.exists():
        raise CustodianError(f"{path} exists already: a custodian's key is made once.")
    if len(passphrase) < 12:
        raise CustodianError("The passphrase needs at least 12 characters.")
    pair = sealing.KeyPair.generate()
    locked = sealing.lock_key(pair.private, passphrase, label="Krov custodian", params=params)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(locked, handle, indent=1)
    return pair.public


def read_key_file(path: Path) -> dict:
    try:
        locked = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise CustodianError(f"The key file {path} cannot be read: {error}") from None
    if not isinstance(locked, dict) or not sealing.is_usable_public_key(locked.get("public", "")):
        raise CustodianError(f"{path} is not a Krov key file.")
    return locked


def load_key_file(path: Path, passphrase: str) -> tuple[bytes, str]:
    locked = read_key_file(path)
    try:
        private = sealing.unlock_key(locked, passphrase)
    except sealing.SealingError as error:
        raise CustodianError(f"The key file does not open: {error}.") from None
    return private, locked["public"]


def read_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="utf-8").strip()
    except OSError as error:
        raise CustodianError(f"The token file {path} cannot be read: {error}") from None
    if not token:
        raise CustodianError(f"The token file {path} is empty.")
    return token


# --- one round ---------------------------------------------------------------------------------


def _team_private(server: Server, private: bytes, public: str) -> tuple[bytes | None, dict]:
    mine = server.get("mine")
    if mine.get("public_key") != public:
        raise CustodianError(
            "The server holds another key for this custodian: was it revoked and added again?"
        )
    server.prove(mine.get("challenge", ""), private, public)
    if not mine.get("team_wrapped"):
        return None, mine
    team = sealing.open_bytes(
        mine["team_wrapped"], private, sealing.team_key_info(mine["team_public"])
    )
    if sealing.public_of(team) != mine["team_public"]:
        raise CustodianError("The team key does not match its public half: tell a coordinator.")
    return team, mine


def run_round(server: Server, private: bytes, public: str) -> Round:
    """Share every waiting case key and send every waiting answer again, once."""
    done = Round()
    team, mine = _team_private(server, private, public)
    if team is None:
        done.waiting_for_team_key = True
        return done
    done.rotation_due = bool(mine.get("rotation_due"))
    for grant in server.get("case-grants").get("pending", []):
        try:
            info = sealing.case_key_info(grant["case"])
            case_private = sealing.open_bytes(grant["case_key"], team, info)
            wrapped = sealing.seal_bytes(case_private, grant["reader_public"], info)
            server.post(
                "case-grants",
                {"case": grant["case"], "reader_key": grant["reader_key"], "wrapped": wrapped},
            )
            done.shared += 1
        except ServerTrouble:
            raise
        except (KeyError, TypeError, sealing.SealingError, CustodianError):
            done.failed += 1  # one case that cannot be shared must not stop the others
    for item in server.get("relays").get("waiting", []):
        try:
            holder = team
            if item.get("team_key"):
                holder = sealing.open_bytes(
                    item["team_key"], private, sealing.team_key_info(item["team_public"])
                )
            case_private = sealing.open_bytes(
                item["case_key"], holder, sealing.case_key_info(item["case"])
            )
            if item.get("case_public") and sealing.public_of(case_private) != item["case_public"]:
                raise CustodianError("not this case's key")
            # The answer must open with this key: a key that does not is not handed on.
            sealing.open_sealed(
                item["body"], case_private, sealing.content_info(item["case"], "message")
            )
            senders = list(item["senders"])
            sealed = [
                sealing.seal_bytes(
                    case_private, sender, sealing.outbox_case_key_info(sender, item["message"])
                )
                for sender in senders
            ]
            server.post("relays", {"message": item["message"], "sender": senders, "sealed": sealed})
            done.resent += 1
        except ServerTrouble:
            raise
        except (KeyError, TypeError, sealing.SealingError, CustodianError):
            done.failed += 1
    return done


# --- the commands --------------------------------------------------------------------------------


def _server(args) -> Server:
    verify: bool | str = args.ca_file or True
    return Server(args.url, read_token(Path(args.token_file)), verify=verify)


def command_init(args) -> int:
    path = Path(args.key_file)
    passphrase = read_passphrase(confirm=True)
    server = _server(args)
    try:
        public = make_key_file(path, passphrase)
        try:
            answer = server.post("key", {"public_key": public})
        except CustodianError as error:
            if not isinstance(error, ServerTrouble):
                path.unlink()  # a key the server refused is of no use
            raise
    finally:
        server.close()
    print(f"The custodian's key is in {path} (keep a copy somewhere safe).")
    print(f"Its fingerprint: {answer['fingerprint']}")
    print(
        "Ask a coordinator to share the team key with it on their 'My key' page, after "
        "comparing this fingerprint with the one shown there."
    )
    return 0


def command_fingerprint(args) -> int:
    try:
        print(sealing.fingerprint(read_key_file(Path(args.key_file))["public"]))
    except sealing.SealingError:
        raise CustodianError(f"{args.key_file} is not a Krov key file.") from None
    return 0


def command_run(args) -> int:
    read_key_file(Path(args.key_file))  # before asking for a passphrase: is the file there?
    private, public = load_key_file(Path(args.key_file), read_passphrase())
    server = _server(args)
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    logger.info("custodian running; fingerprint %s", sealing.fingerprint(public))
    told_waiting = told_rotation = False
    try:
        while not stopping:
            try:
                done = run_round(server, private, public)
            except httpx.HTTPError as error:
                logger.warning("the server cannot be reached (%s)", type(error).__name__)
            except ServerTrouble as error:
                logger.warning("%s Trying again.", error)
            else:
                if done.waiting_for_team_key and not told_waiting:
                    logger.info("waiting for a coordinator to share the team key")
                told_waiting = done.waiting_for_team_key
                if done.rotation_due and not told_rotation:
                    logger.warning("the team key is due for renewal: a coordinator renews it")
                told_rotation = done.rotation_due
                if done.shared or done.resent or done.failed:
                    logger.info(
                        "shared %d case keys, sent %d answers again, %d failed",
                        done.shared,
                        done.resent,
                        done.failed,
                    )
            if args.once:
                break
            for _tick in range(int(args.every * 10)):
                if stopping:
                    break
                time.sleep(0.1)
    finally:
        server.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="krov custodian",
        description="The key custodian: shares case keys while no coordinator is online.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def common(sub, *, server: bool = True) -> None:
        sub.add_argument("--key-file", required=True, help="the custodian's locked key (JSON)")
        if server:
            sub.add_argument("--url", required=True, help="the Krov server, https://...")
            sub.add_argument("--token-file", required=True, help="a file holding the token")
            sub.add_argument("--ca-file", help="a CA bundle to trust (a self-signed server)")

    init = commands.add_parser("init", help="make the key and register it with the server")
    common(init)
    init.set_defaults(handler=command_init)
    run = commands.add_parser("run", help="share case keys and resend answers, every 20 s")
    common(run)
    run.add_argument("--once", action="store_true", help="one round, then stop")
    run.add_argument("--every", type=float, default=EVERY_SECONDS, help="seconds between rounds")
    run.set_defaults(handler=command_run)
    show = commands.add_parser("fingerprint", help="the key's fingerprint, to compare")
    common(show, server=False)
    show.set_defaults(handler=command_fingerprint)
    return parser


CLIENT_COMMANDS = {"init", "run", "fingerprint"}


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s krov-custodian %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CustodianError as error:
        sys.stderr.write(f"krov custodian: {error}\n")
        return 2
    except httpx.HTTPError as error:
        kind = type(error).__name__
        sys.stderr.write(f"krov custodian: the server cannot be reached ({kind}).\n")
        return 3
