"""`krov demo` (what `make run` loads) runs, twice, and its cases follow Krov's rules."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from krov.aid.models import HelpRequest, Offer
from krov.core import audit

pytestmark = pytest.mark.django_db


def test_the_demo_loads_twice_and_every_case_holder_has_a_second_factor(capsys):
    from allauth.mfa.models import Authenticator

    call_command("demo", "--force")
    first = capsys.readouterr().out
    call_command("demo", "--force")
    again = capsys.readouterr().out
    assert "Veter: " in first and first.split("Veter: ")[1][:32] == again.split("Veter: ")[1][:32]
    offered = HelpRequest.objects.get(status="offered")
    offer = Offer.objects.get(request=offered, status="pending")
    assert Authenticator.objects.filter(user=offer.volunteer.user, type="totp").exists()
    assert all(
        Authenticator.objects.filter(user=case.assignee.user).exists()
        for case in HelpRequest.objects.filter(assignee__isnull=False)
    )
    assert audit.verify().ok
