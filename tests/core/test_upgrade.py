"""`krov upgrade`: no migration without a recent backup; then migrate and check --deploy."""

from __future__ import annotations

import io
from datetime import timedelta

import pyrage
import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from krov.core import backup

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def migrate_calls(monkeypatch):
    """Record the commands upgrade runs (the test database is migrated already: a no-op)."""
    from django.core import management

    calls = []
    real = management.call_command

    def spy(name, *args, **kwargs):
        calls.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr("krov.core.management.commands.upgrade.call_command", spy)
    return calls


@pytest.fixture(autouse=True)
def _no_old_record(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"


def make_backup(tmp_path):
    public = str(pyrage.x25519.Identity.generate().to_public())
    call_command(
        "backup", "--to", str(tmp_path / "b.age"), "--recipient", public, stdout=io.StringIO()
    )


def test_upgrade_refuses_without_any_backup(migrate_calls):
    with pytest.raises(CommandError, match="No backup of this instance in the last 24 hours"):
        call_command("upgrade")
    assert migrate_calls == []


def test_upgrade_refuses_when_the_last_backup_is_too_old(migrate_calls, tmp_path):
    with time_machine.travel(timezone.now() - timedelta(hours=30)):
        make_backup(tmp_path)
    with pytest.raises(CommandError, match="in the last 24 hours"):
        call_command("upgrade")
    assert migrate_calls == []
    # A wider window (an operator's choice) accepts it.
    out = io.StringIO()
    call_command("upgrade", "--backup-hours", "48", stdout=out)
    assert migrate_calls == ["migrate", "check"]


def test_upgrade_after_a_backup_migrates_checks_and_says_what_it_did(migrate_calls, tmp_path):
    make_backup(tmp_path)
    record = (tmp_path / backup.RECORD).read_text()
    assert "age1" not in record and "b.age" not in record  # a time, not keys or paths
    out = io.StringIO()
    call_command("upgrade", stdout=out)
    text = out.getvalue()
    assert migrate_calls == ["migrate", "check"]
    assert "Last backup finished" in text
    assert "No migrations to apply." in text
    assert "`check --deploy` passed" in text


def test_upgrade_reports_deploy_check_errors(migrate_calls, tmp_path, settings):
    make_backup(tmp_path)
    from django.core import checks

    @checks.register(checks.Tags.security, deploy=True)
    def broken(app_configs, **kwargs):
        return [checks.Error("deliberately broken", id="krovtest.E001")]

    try:
        with pytest.raises(CommandError, match="deliberately broken"):
            call_command("upgrade", stdout=io.StringIO(), stderr=io.StringIO())
    finally:
        checks.registry.registry.registered_checks.discard(broken)
        checks.registry.registry.deployment_checks.discard(broken)
