"""`krov backup` / `krov restore`: an age-encrypted dump plus media, restored elsewhere."""

from __future__ import annotations

import contextlib
import io
import os
import sqlite3
import stat
import time
import uuid
from pathlib import Path

import pyrage
import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from krov.accounts import services as account_services
from krov.core import backup

MARKER = "plaintextmarker7f3a"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def keys(tmp_path):
    identity = pyrage.x25519.Identity.generate()
    path = tmp_path / "operator.key"
    path.write_text(f"# created: today\n# public key: {identity.to_public()}\n{identity}\n")
    path.chmod(0o600)
    return str(identity.to_public()), path


@pytest.fixture
def state(active_case, settings, tmp_path):
    """Accounts, a case with an offer and messages (aid fixtures), a plaintext marker in an
    address, and a media file."""
    account_services.create_account(
        email=f"{MARKER}@example.org", pseudonym="Marker", password=None, email_verified=True
    )
    settings.MEDIA_ROOT = tmp_path / "media-source"
    (settings.MEDIA_ROOT / "covers").mkdir(parents=True)
    (settings.MEDIA_ROOT / "covers" / "night.jpg").write_bytes(b"JPEG " + MARKER.encode() * 10)
    return active_case


def model_tables() -> list[str]:
    return sorted(
        {model._meta.db_table for model in apps.get_models(include_auto_created=True)}
        & set(connection.introspection.table_names())
    )


def counts_here() -> dict[str, int]:
    found = {}
    with connection.cursor() as cursor:
        for table in model_tables():
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - model tables
            found[table] = cursor.fetchone()[0]
    return found


def counts_in_sqlite(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        return {
            table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in model_tables()
        }


def test_backup_and_restore_on_sqlite_give_the_same_rows_and_media(state, keys, tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path; PostgreSQL has its own test")
    public, identity_file = keys
    out = tmp_path / "krov.age"
    call_command("backup", "--to", str(out), "--recipient", public)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    sealed = out.read_bytes()
    assert sealed.startswith(b"age-encryption.org/v1")
    assert MARKER.encode() not in sealed
    assert b"SQLite format" not in sealed
    assert backup.last_backup() is not None

    before = counts_here()
    assert before["aid_helprequest"] == 1 and before["aid_offer"] == 1
    target = tmp_path / "elsewhere" / "krov.sqlite3"
    target.parent.mkdir()
    media = tmp_path / "media-restored"
    summary = backup.restore(
        out,
        backup.load_identities(identity_file),
        database={"ENGINE": backup.SQLITE, "NAME": str(target)},
        media_root=media,
    )
    assert summary.vendor == "sqlite" and summary.media_files == 1
    assert counts_in_sqlite(target) == before
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with contextlib.closing(sqlite3.connect(target)) as db:
        emails = {row[0] for row in db.execute("SELECT email FROM accounts_user")}
    assert f"{MARKER}@example.org" in emails
    assert (media / "covers" / "night.jpg").read_bytes().startswith(b"JPEG " + MARKER.encode())
    # Nothing of the unpacked plaintext is left behind in the data directory.
    from django.conf import settings

    assert not list(Path(settings.DATA_DIR).glob(".restore-*"))
    assert not list(Path(settings.DATA_DIR).glob(".backup-*"))


def test_a_wrong_identity_fails_with_a_clear_message(state, keys, tmp_path):
    public, _identity_file = keys
    out = tmp_path / "krov.age"
    call_command("backup", "--to", str(out), "--recipient", public)
    stranger = tmp_path / "stranger.key"
    stranger.write_text(f"{pyrage.x25519.Identity.generate()}\n")
    target = tmp_path / "fresh.sqlite3"
    with pytest.raises(CommandError, match="not encrypted to this identity"):
        call_command(
            "restore",
            "--from",
            str(out),
            "--identity",
            str(stranger),
            "--database-url",
            f"sqlite:///{target}",
        )
    assert backup.tables_in({"ENGINE": backup.SQLITE, "NAME": str(target)}) == []


def test_a_truncated_backup_loads_nothing(state, keys, tmp_path):
    public, identity_file = keys
    out = tmp_path / "krov.age"
    call_command("backup", "--to", str(out), "--recipient", public)
    cut = tmp_path / "cut.age"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    target = tmp_path / "fresh.sqlite3"
    with pytest.raises(backup.BackupError, match="damaged or incomplete"):
        backup.restore(
            cut,
            backup.load_identities(identity_file),
            database={"ENGINE": backup.SQLITE, "NAME": str(target)},
            media_root=tmp_path / "m",
        )
    assert backup.tables_in({"ENGINE": backup.SQLITE, "NAME": str(target)}) == []


def test_restore_refuses_a_database_that_holds_tables(state, keys, tmp_path):
    public, identity_file = keys
    out = tmp_path / "krov.age"
    call_command("backup", "--to", str(out), "--recipient", public)
    used = tmp_path / "used.sqlite3"
    with contextlib.closing(sqlite3.connect(used)) as db:
        db.execute("CREATE TABLE something (id integer)")
    with pytest.raises(backup.BackupError, match="empty database"):
        backup.restore(
            out,
            backup.load_identities(identity_file),
            database={"ENGINE": backup.SQLITE, "NAME": str(used)},
            media_root=tmp_path / "m",
        )


def test_backup_refuses_a_bad_key_and_an_existing_file(db, keys, tmp_path):
    with pytest.raises(CommandError, match="Not an age public key"):
        call_command("backup", "--to", str(tmp_path / "a.age"), "--recipient", "ssh-rsa AAAA")
    existing = tmp_path / "b.age"
    existing.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists already"):
        call_command("backup", "--to", str(existing), "--recipient", keys[0])
    assert existing.read_bytes() == b"keep me"
    assert not (tmp_path / "a.age").exists() and not (tmp_path / "a.age.partial").exists()


def test_an_identity_file_without_a_key_is_refused_without_echoing_it(tmp_path):
    path = tmp_path / "id.txt"
    path.write_text("AGE-SECRET-KEY-1NOTREALLYAKEY\n")
    with pytest.raises(backup.BackupError) as caught:
        backup.load_identities(path)
    assert "NOTREALLY" not in str(caught.value)


# --- PostgreSQL: real pg_dump and pg_restore into a database made for the test ----------------


@pytest.fixture
def fresh_postgres():
    """An empty database beside the test database, dropped afterwards."""
    import psycopg

    params = backup._pg_env(connection.settings_dict)
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = {
        "dbname": "postgres",
        "user": params.get("PGUSER"),
        "password": params.get("PGPASSWORD"),
        "host": params.get("PGHOST"),
        "port": params.get("PGPORT"),
    }
    admin = {key: value for key, value in admin.items() if value}
    with psycopg.connect(**admin, autocommit=True) as db:
        db.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**connection.settings_dict, "NAME": name}
    finally:
        with psycopg.connect(**admin, autocommit=True) as db:
            db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_and_restore_on_postgresql(state, keys, tmp_path, request):
    if connection.vendor != "postgresql":
        pytest.skip("needs KROV_TEST_DATABASE_URL pointing at PostgreSQL")
    import psycopg

    target = request.getfixturevalue("fresh_postgres")
    public, identity_file = keys
    out = tmp_path / "krov.age"
    call_command("backup", "--to", str(out), "--recipient", public)
    sealed = out.read_bytes()
    assert MARKER.encode() not in sealed and b"PGDMP" not in sealed
    assert stat.S_IMODE(out.stat().st_mode) == 0o600

    before = counts_here()
    media = tmp_path / "media-restored"
    summary = backup.restore(
        out, backup.load_identities(identity_file), database=target, media_root=media
    )
    assert summary.vendor == "postgresql" and summary.media_files == 1
    env = backup._pg_env(target)
    with psycopg.connect(
        dbname=target["NAME"],
        user=env.get("PGUSER"),
        host=env.get("PGHOST"),
        port=env.get("PGPORT"),
        password=env.get("PGPASSWORD"),
    ) as db:
        after = {
            table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in model_tables()
        }
        emails = {row[0] for row in db.execute("SELECT email FROM accounts_user")}
    assert after == before
    assert f"{MARKER}@example.org" in emails
    assert (media / "covers" / "night.jpg").exists()
    # A second restore into the now filled database is refused.
    with pytest.raises(backup.BackupError, match="empty database"):
        backup.restore(out, backup.load_identities(identity_file), database=target)


# --- libpq's environment reaches pg_dump and pg_restore ---------------------------------------


class _Connection:
    """Stands for django.db.connection in `_dump`: settings of a PostgreSQL database."""

    def __init__(self, settings_dict):
        self.settings_dict = settings_dict


POSTGRES_SETTINGS = {
    "ENGINE": backup.POSTGRES,
    "NAME": "krov",
    "USER": "krov",
    "PASSWORD": "",
    "HOST": "db.internal",
    "PORT": 5432,
    "OPTIONS": {"sslrootcert": "/etc/krov/db-ca.pem", "pool": True},
}


@pytest.fixture
def recording_pg_dump(tmp_path, monkeypatch):
    """A `pg_dump` first on PATH that writes down the environment it was given."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "pg_dump.env"
    script = bin_dir / "pg_dump"
    script.write_text(
        "#!/bin/sh\n"
        f'env > "{seen}"\n'
        # The last argument after --file is the dump to write.
        'while [ "$#" -gt 1 ]; do [ "$1" = --file ] && out=$2; shift; done\n'
        'printf PGDMP > "$out"\n'
    )
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")

    def environment() -> dict[str, str]:
        lines = seen.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    return environment


def test_pg_dump_gets_the_libpq_password_file_tls_and_service_file_of_the_environment(
    recording_pg_dump, tmp_path, monkeypatch
):
    monkeypatch.setenv("PGPASSFILE", "/run/credentials/krov/pgpass")
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", "/etc/ssl/env-ca.pem")
    monkeypatch.setenv("PGSERVICEFILE", "/etc/krov/pg_service.conf")
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "7")
    monkeypatch.setenv("PGDATA", "/var/lib/postgresql/data")  # the server's, not libpq's
    monkeypatch.setenv("PGHOST", "elsewhere.example.org")
    monkeypatch.setattr(backup, "connection", _Connection(POSTGRES_SETTINGS))

    vendor, dump = backup._dump(tmp_path)

    seen = recording_pg_dump()
    assert vendor == "postgresql" and dump.read_bytes() == b"PGDMP"
    assert seen["PGPASSFILE"] == "/run/credentials/krov/pgpass"
    assert seen["PGSSLMODE"] == "verify-full"
    assert seen["PGSERVICEFILE"] == "/etc/krov/pg_service.conf"
    assert seen["PGCONNECT_TIMEOUT"] == "7"
    assert "PGDATA" not in seen
    # What the settings name (DATABASE_URL and its options) wins over the environment.
    assert seen["PGHOST"] == "db.internal"
    assert seen["PGSSLROOTCERT"] == "/etc/krov/db-ca.pem"
    assert seen["PGDATABASE"] == "krov" and seen["PGUSER"] == "krov"
    assert "PGPASSWORD" not in seen  # none in the settings, none in the environment


def test_database_url_options_become_libpq_variables_and_django_only_options_do_not():
    env = backup._pg_env(
        {
            **POSTGRES_SETTINGS,
            "PASSWORD": "s3cret",
            "OPTIONS": {"sslmode": "require", "passfile": "/p", "pool": True, "service": "krov"},
        }
    )
    assert env["PGSSLMODE"] == "require"
    assert env["PGPASSFILE"] == "/p"
    assert env["PGSERVICE"] == "krov"
    assert env["PGPASSWORD"] == "s3cret"
    assert not any(value == "True" for key, value in env.items() if key.startswith("PG"))


def test_pg_dump_on_postgresql_honours_pgsslmode_and_pgsslrootcert(db, tmp_path, monkeypatch):
    """Against the real server: a CA file that does not exist makes libpq refuse, which it
    can only do if the two variables reached pg_dump."""
    if connection.vendor != "postgresql":
        pytest.skip("needs KROV_TEST_DATABASE_URL pointing at PostgreSQL")
    monkeypatch.setenv("PGSSLMODE", "verify-full")
    monkeypatch.setenv("PGSSLROOTCERT", str(tmp_path / "no-such-ca.pem"))
    with pytest.raises(backup.BackupError, match="pg_dump failed"):
        backup._dump(tmp_path)


# --- retention: backups older than the promise are deleted ------------------------------------


def made_days_ago(folder: Path, name: str, days: float) -> Path:
    path = folder / name
    path.write_bytes(b"age-encryption.org/v1 ...")
    moment = time.time() - days * 86400
    os.utime(path, (moment, moment))
    return path


@pytest.fixture
def backups(tmp_path, settings):
    settings.KROV_RETENTION_DAYS = 30
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


def test_prune_deletes_backups_as_old_as_the_retention_and_keeps_younger_ones(backups):
    old = made_days_ago(backups, "krov-2026-01-01.age", 30.01)
    failed = made_days_ago(backups, "krov-2026-01-02.age.partial", 45)
    young = made_days_ago(backups, "krov-2026-01-20.age", 29.9)
    notes = made_days_ago(backups, "README.txt", 400)

    deleted = backup.prune(backups)

    assert deleted == [failed, old]
    assert not old.exists() and not failed.exists()
    assert young.exists() and notes.exists()


def test_prune_keeps_fewer_days_when_asked_but_never_more_than_the_retention(backups):
    week_old = made_days_ago(backups, "krov-a.age", 7.5)
    assert backup.prune(backups, keep_days=7) == [week_old]
    with pytest.raises(backup.BackupError, match="KROV_RETENTION_DAYS"):
        backup.prune(backups, keep_days=31)


def test_prune_does_not_follow_links_or_enter_subfolders(backups, tmp_path):
    elsewhere = made_days_ago(tmp_path, "precious.age", 90)
    (backups / "link.age").symlink_to(elsewhere)
    (backups / "archive").mkdir()
    nested = made_days_ago(backups / "archive", "krov-old.age", 90)
    assert backup.prune(backups) == []
    assert elsewhere.exists() and nested.exists()


def test_backup_command_prunes_the_folder_after_writing_the_new_backup(
    db, keys, backups, settings, tmp_path
):
    if connection.vendor != "sqlite":
        pytest.skip("one database is enough for the command's wiring")
    settings.MEDIA_ROOT = tmp_path / "no-media"
    old = made_days_ago(backups, "krov-old.age", 31)
    new = backups / "krov-new.age"
    out = io.StringIO()
    call_command(
        "backup", "--to", str(new), "--recipient", keys[0], "--prune", str(backups), stdout=out
    )
    assert new.exists() and not old.exists()
    assert f"Deleted {old}" in out.getvalue()


def test_backup_command_dry_run_lists_and_keeps(backups):
    old = made_days_ago(backups, "krov-old.age", 31)
    out = io.StringIO()
    call_command("backup", "--prune", str(backups), "--dry-run", stdout=out)
    assert old.exists()
    assert f"Would delete {old}" in out.getvalue()


def test_backup_command_refuses_to_keep_longer_than_the_retention_before_writing(db, keys, backups):
    new = backups / "krov-new.age"
    with pytest.raises(CommandError, match="KROV_RETENTION_DAYS"):
        call_command(
            "backup",
            "--to",
            str(new),
            "--recipient",
            keys[0],
            "--prune",
            str(backups),
            "--keep-days",
            "60",
        )
    assert not new.exists()


def test_backup_command_without_a_file_or_a_folder_says_what_it_needs():
    with pytest.raises(CommandError, match="--prune DIR"):
        call_command("backup")
