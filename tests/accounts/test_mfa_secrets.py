"""TOTP secrets and recovery seeds are stored encrypted and rotate with the field keys."""

from __future__ import annotations

import importlib

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from cryptography.fernet import Fernet
from django.apps import apps as global_apps
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.conftest import PASSWORD, make_persona

pytestmark = pytest.mark.django_db


def raw_data(authenticator_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT data FROM mfa_authenticator WHERE id = %s", [authenticator_id])
        return str(cursor.fetchone()[0])


def signs_in_with_totp(persona) -> bool:
    client = Client()
    client.post("/en/accounts/login/", {"login": persona.user.email, "password": PASSWORD})
    client.post("/en/accounts/2fa/authenticate/", {"code": persona.totp_code()})
    return client.get("/en/dashboard/").status_code == 200


def test_totp_secret_is_not_stored_in_plain_form_and_still_signs_in():
    persona = make_persona("volunteer")
    totp = Authenticator.objects.get(user=persona.user, type="totp")
    assert persona.totp_secret not in raw_data(totp.pk)
    assert signs_in_with_totp(persona)


def test_recovery_seed_is_encrypted_and_codes_still_work():
    persona = make_persona("volunteer")
    recovery = RecoveryCodes.activate(persona.user)
    stored = Authenticator.objects.get(pk=recovery.instance.pk)
    seed = RecoveryCodes(stored).instance.data["seed"]
    assert seed.startswith("gAAAA")  # a Fernet token
    code = RecoveryCodes(stored).get_unused_codes()[0]
    assert RecoveryCodes(stored).validate_code(code)


def test_rotate_keys_reencrypts_second_factor_secrets(settings, capsys):
    persona = make_persona("volunteer")
    old_key = settings.KROV_FIELD_KEYS[0]
    new_key = Fernet.generate_key().decode()
    settings.KROV_FIELD_KEYS = [new_key, old_key]
    call_command("rotate-keys")
    assert "mfa.Authenticator.data: 1 re-encrypted" in capsys.readouterr().out
    settings.KROV_FIELD_KEYS = [new_key]
    assert signs_in_with_totp(persona)


def test_migration_encrypts_plain_secrets_once():
    persona = make_persona("volunteer")
    totp = Authenticator.objects.get(user=persona.user, type="totp")
    Authenticator.objects.filter(pk=totp.pk).update(data={"secret": persona.totp_secret})
    migration = importlib.import_module("krov.accounts.migrations.0004_encrypt_mfa_secrets")
    migration.encrypt_existing(global_apps, None)
    migration.encrypt_existing(global_apps, None)  # twice: still one layer
    assert persona.totp_secret not in raw_data(totp.pk)
    assert signs_in_with_totp(persona)
