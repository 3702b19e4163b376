"""Server-side cost of sealing at intake, on SQLite, in one run.

Stores web help requests through `krov.aid.services.submit_request` (the path the form
takes) with no team key (field keys only, as before sealing) and with a team key (a case
key pair made, the text sealed, the key wrapped to the team and under the link), and a
volunteer's reply to each, and prints the sealed/unsealed ratios of the medians.
Run with `python -m bench.sealed_intake` (BENCH_SAMPLES, default 300).
"""

from __future__ import annotations

import os
import statistics
import time

SAMPLES = int(os.environ.get("BENCH_SAMPLES", "300"))
TEXT = "Мама не може вести авто; ми в Бердянську, треба виїхати через Василівку. " * 6


def timed(fn, count: int) -> list[float]:
    took = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        took.append(time.perf_counter() - start)
    return took


def main() -> None:
    from bench import team_key
    from bench.__main__ import setup

    setup()
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from krov.accounts import roles
    from krov.accounts import services as account_services
    from krov.aid import services
    from krov.aid.models import HelpRequest, Skill
    from krov.core import sealing

    skill = Skill.objects.get(slug="legal")
    coordinator = account_services.create_account(
        email="c@bench.local", pseudonym="Coordinator", password="x" * 20, roles=[roles.MEMBER]
    )
    account_services.set_roles(coordinator, [roles.COORDINATOR], actor=None)
    TOTP.activate(coordinator, generate_totp_secret())
    volunteer_user = account_services.create_account(
        email="v@bench.local", pseudonym="Volunteer", password="x" * 20, roles=[roles.MEMBER]
    )
    TOTP.activate(volunteer_user, generate_totp_secret())
    volunteer = services.vouch_for(volunteer_user, actor=coordinator, languages=["uk"])
    services.set_trust(volunteer, 2, actor=coordinator)

    def intake() -> None:
        services.submit_request(
            channel=HelpRequest.Channel.WEB, language="uk", skill=skill, description=TEXT
        )

    def one_case_with_reply() -> None:
        case = services.submit_request(
            channel=HelpRequest.Channel.WEB, language="uk", skill=skill, description=TEXT
        ).request
        services.assign(case, volunteer, actor=coordinator)
        services.post_reply(case, actor=volunteer_user, body=TEXT)
        services.close_case(case, actor=volunteer_user, outcome=HelpRequest.Outcome.HELPED)

    timed(intake, 20)  # warm up
    plain_intake = statistics.median(timed(intake, SAMPLES))
    plain_case = statistics.median(timed(one_case_with_reply, SAMPLES // 3))

    team_key.create(coordinator)
    reader = sealing.KeyPair.generate()
    sealed_intake = statistics.median(timed(intake, SAMPLES))
    sealed_case = statistics.median(timed(one_case_with_reply, SAMPLES // 3))
    seal_only = statistics.median(
        timed(lambda: sealing.seal(TEXT, reader.public, "krov/v1/content/x/message"), SAMPLES)
    )

    print(f"sealed intake, SQLite, {len(TEXT)} characters, median of {SAMPLES}")
    print(f"  intake, field keys only:   {plain_intake * 1000:7.2f} ms  (baseline 1.00)")
    print(
        f"  intake, sealed:            {sealed_intake * 1000:7.2f} ms  "
        f"({sealed_intake / plain_intake:.2f}x)"
    )
    print(
        f"  case (intake, assign, reply, close), field keys: {plain_case * 1000:.2f} ms, "
        f"sealed: {sealed_case * 1000:.2f} ms ({sealed_case / plain_case:.2f}x)"
    )
    print(
        f"  one HPKE seal alone:       {seal_only * 1000:7.3f} ms  "
        f"({seal_only / plain_intake:.3f}x of an intake)"
    )


if __name__ == "__main__":
    main()
