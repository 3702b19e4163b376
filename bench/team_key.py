"""A team key, as a Krov in use has one once its first coordinator has set up sealing: from
then on the Telegram webhook and the web form seal what comes in, so the intake benchmarks
measure that path (without it they measure the one taken before sealing is set up).

`create()` runs in a process where Django is set up; `CODE` is the same for a `python -c`
into a Django shell."""

from __future__ import annotations


def create(coordinator=None):
    """Make the team key, wrapped to `coordinator`'s reader key (a coordinator with a second
    factor is made when none is given); returns the coordinator."""
    from krov.aid import services
    from krov.core import sealing

    if coordinator is None:
        from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

        from krov.accounts import roles
        from krov.accounts import services as account_services

        coordinator = account_services.create_account(
            email="team-key@bench.local", pseudonym="Keyholder", password="x" * 20, roles=[]
        )
        account_services.set_roles(coordinator, [roles.COORDINATOR], actor=None)
        TOTP.activate(coordinator, generate_totp_secret())
    reader = sealing.KeyPair.generate()
    services.register_reader_key(coordinator, public_key=reader.public)
    team = sealing.KeyPair.generate()
    services.create_team_key(
        actor=coordinator,
        public_key=team.public,
        wrapped_for_self=sealing.seal_bytes(
            team.private, reader.public, sealing.team_key_info(team.public)
        ),
    )
    return coordinator


CODE = "from bench.team_key import create\ncreate()\n"
