from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from krov.core.models import AuditEvent
from tests.encrypted_app.models import Note

pytestmark = pytest.mark.django_db


def raw_column(note: Note, column: str = "body") -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM encrypted_app_note WHERE id = %s", [note.pk])  # noqa: S608
        return cursor.fetchone()[0]


def test_encrypted_field_round_trips_and_stores_no_plaintext():
    note = Note.objects.create(body="Mama cannot drive; we are in Kharkiv")
    assert Note.objects.get(pk=note.pk).body == "Mama cannot drive; we are in Kharkiv"
    stored = raw_column(note)
    assert "Kharkiv" not in stored
    assert "Mama" not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


def test_null_stays_null():
    note = Note.objects.create(body="x", remark=None)
    assert raw_column(note, "remark") is None
    assert Note.objects.get(pk=note.pk).remark is None


def test_same_plaintext_encrypts_differently_each_time():
    a = Note.objects.create(body="same")
    b = Note.objects.create(body="same")
    assert raw_column(a) != raw_column(b)


def test_lookups_on_ciphertext_are_refused():
    with pytest.raises(TypeError, match="encrypted fields do not support"):
        Note.objects.filter(body="anything").exists()


@settings(max_examples=40, deadline=None)
@given(text=st.text(max_size=500))
def test_any_text_round_trips(text):
    note = Note.objects.create(body=text)
    assert Note.objects.get(pk=note.pk).body == text


def test_rotate_keys_reencrypts_every_value_under_newest_key(settings, capsys):
    old_key = settings.KROV_FIELD_KEYS[0]
    notes = [Note.objects.create(body=f"secret {i}", remark=f"remark {i}") for i in range(3)]
    before = {n.pk: raw_column(n) for n in notes}

    new_key = Fernet.generate_key().decode()
    settings.KROV_FIELD_KEYS = [new_key, old_key]
    call_command("rotate-keys")
    assert "encrypted_app.Note.body: 3 re-encrypted" in capsys.readouterr().out

    settings.KROV_FIELD_KEYS = [new_key]  # the old key is gone for good
    for note in notes:
        assert raw_column(note) != before[note.pk]
        Fernet(new_key).decrypt(raw_column(note).encode())
        fresh = Note.objects.get(pk=note.pk)
        assert fresh.body.startswith("secret ")
        assert fresh.remark.startswith("remark ")
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.KEYS_ROTATED).count() == 1


def test_value_under_a_removed_key_is_an_error_not_garbage(settings):
    note = Note.objects.create(body="x")
    settings.KROV_FIELD_KEYS = [Fernet.generate_key().decode()]
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        Note.objects.get(pk=note.pk)
