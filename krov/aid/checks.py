"""Deploy checks for sealed cases: `krov check --deploy` says when cases are not sealed."""

from __future__ import annotations

from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_sealing(app_configs=None, **kwargs):
    from django.db.utils import DatabaseError

    from krov.aid import services

    try:
        if not services.sealing_ready():
            return [
                Warning(
                    "No team key yet: web requests are stored under the field keys, which "
                    "this server holds, instead of being sealed.",
                    hint="A coordinator signs in, opens My key (/en/aid/keys/), makes their "
                    "key and the team key.",
                    id="krov.W010",
                )
            ]
        waiting = services.sealable_cases(include_open=True).count()
    except DatabaseError:  # no tables yet, before the first migrate
        return []
    if waiting:
        return [
            Warning(
                f"{waiting} case(s) from before sealing are not sealed yet.",
                hint="Run `krov seal-cases` (closed cases; open ones are sealed on their "
                "requester's next visit, or now with --open).",
                id="krov.W011",
            )
        ]
    return []
