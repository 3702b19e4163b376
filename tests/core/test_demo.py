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


def test_every_login_in_readmes_table_signs_in_with_the_password_readme_gives():
    """A newcomer follows README only: each demo login it lists exists, holds the role it
    is listed under, and opens with README's password."""
    import re
    from pathlib import Path

    from django.contrib.auth import authenticate

    from krov.accounts import services as account_services

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    password = re.search(r"Demo logins \(password `([^`]+)`", readme).group(1)
    rows = re.findall(r"^\| ([a-z ]+) \| (\S+@demo\.krov\.local) \|", readme, flags=re.M)
    assert len(rows) >= 7, rows
    call_command("demo", "--force")
    for role, login in rows:
        user = authenticate(None, email=login, password=password)
        assert user is not None, login
        expected = "editor" if role == "second editor" else role
        assert expected in account_services.user_roles(user), (login, role)
