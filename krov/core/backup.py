"""Encrypted backups: `krov backup` and `krov restore`.

A backup is one age-encrypted file (pyrage) holding a tar stream:
- `krov-backup.json`: format, vendor, when it was made (no secrets, no names);
- the database: `database.pgdump` (`pg_dump --format=custom`) or `database.sqlite3` (SQLite's
  online backup API, a consistent copy while Krov runs);
- `media/`: uploaded files under MEDIA_ROOT.

The tar is encrypted while it is written (a pipe into `pyrage.encrypt_io`) to one or more
operators' age public keys; the server keeps no key that opens it. The database copy exists
in plaintext only for the time it takes to pack it, in a private folder inside the data
directory (where the live database is anyway), and is deleted at once. Field keys
(KROV_FIELD_KEYS) and KROV_SECRET_KEY are not in the backup: keep them apart (see
docs/operations.md); sealed case content needs a team key, which the server never had.

A restore goes into an empty database only (no tables at all): it decrypts and unpacks into
a private folder, and loads the database only once the whole file decrypted and checked.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyrage
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

FORMAT = 1
MANIFEST = "krov-backup.json"
SQLITE_MEMBER = "database.sqlite3"
POSTGRES_MEMBER = "database.pgdump"
MEDIA = "media"
# In the data directory: when the last backup finished (read by `krov upgrade`).
RECORD = "last-backup.json"

SQLITE = "django.db.backends.sqlite3"
POSTGRES = "django.db.backends.postgresql"


class BackupError(Exception):
    """Something an operator must fix; the message says what (and holds no secret)."""


@dataclass
class Summary:
    vendor: str
    media_files: int
    size: int = 0


# --- keys --------------------------------------------------------------------------------


def parse_recipients(values: list[str]) -> list[pyrage.x25519.Recipient]:
    if not values:
        raise BackupError(_("Name at least one age public key (age1...) to encrypt to."))
    recipients = []
    for value in values:
        try:
            recipients.append(pyrage.x25519.Recipient.from_str(value.strip()))
        except pyrage.RecipientError:
            raise BackupError(
                _("Not an age public key: %(value)s (expected age1...).") % {"value": value}
            ) from None
    return recipients


def load_identities(path: Path) -> list[pyrage.x25519.Identity]:
    """The age identities (AGE-SECRET-KEY-1...) in an identity file, as `age-keygen` writes
    it. The file's content never appears in a message."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BackupError(
            _("Cannot read the identity file %(path)s: %(error)s")
            % {"path": path, "error": getattr(exc, "strerror", None) or type(exc).__name__}
        ) from None
    identities = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(pyrage.x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise BackupError(
                _("%(path)s holds a line that is not an age identity.") % {"path": path}
            ) from None
    if not identities:
        raise BackupError(_("%(path)s holds no age identity.") % {"path": path})
    return identities


# --- databases ---------------------------------------------------------------------------


# libpq's environment variables (PostgreSQL's manual, "libpq: Environment Variables") by
# the connection parameter each stands for. Krov's own connection is libpq inside psycopg,
# so it reads these from the environment too; pg_dump and pg_restore get the same ones
# (a password file, a service file, TLS with a CA to verify the server, a timeout...), and
# what Django's settings name (DATABASE_URL and its ?sslmode=...&sslrootcert=... options)
# wins over the environment, as it does for Krov's connection.
LIBPQ_ENVIRONMENT = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "require_auth": "PGREQUIREAUTH",
    "channel_binding": "PGCHANNELBINDING",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "sslmode": "PGSSLMODE",
    "requiressl": "PGREQUIRESSL",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "sslcompression": "PGSSLCOMPRESSION",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "gsslib": "PGGSSLIB",
    "gssdelegation": "PGGSSDELEGATION",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}
# Read from the environment only (no connection parameter): where the service file and the
# system-wide pg_service.conf are, and session defaults.
LIBPQ_ENVIRONMENT_ONLY = frozenset(
    {"PGSERVICEFILE", "PGSYSCONFDIR", "PGDATESTYLE", "PGTZ", "PGGEQO", "PGLOCALEDIR"}
)


def _libpq_params(database: dict[str, Any]) -> dict[str, str]:
    """The libpq connection parameters Django's settings name for `database`: NAME, USER,
    PASSWORD, HOST, PORT, and the OPTIONS libpq knows (sslmode, sslrootcert, passfile,
    service, ...). Django-only options (pool, isolation_level, ...) are left out."""
    params: dict[str, Any] = {
        "dbname": database.get("NAME"),
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
    }
    for key, value in (database.get("OPTIONS") or {}).items():
        if key in LIBPQ_ENVIRONMENT and key not in params:
            params[key] = value
    return {key: str(value) for key, value in params.items() if value not in (None, "")}


def _pg_env(database: dict[str, Any]) -> dict[str, str]:
    """libpq's environment for pg_dump and pg_restore: the password never on a command line.

    The libpq variables of Krov's own environment pass (PGPASSFILE, PGSSLMODE,
    PGSSLROOTCERT, PGSERVICEFILE, ...: LIBPQ_ENVIRONMENT), so that the tools connect the way
    Krov's connection does; what the settings name overrides them. Other PG* variables
    (e.g. the server's PGDATA) do not."""
    known = set(LIBPQ_ENVIRONMENT.values()) | LIBPQ_ENVIRONMENT_ONLY
    env = {
        key: value for key, value in os.environ.items() if not key.startswith("PG") or key in known
    }
    for key, value in _libpq_params(database).items():
        env[LIBPQ_ENVIRONMENT[key]] = value
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(  # noqa: S603 - a fixed program, arguments we built
            command, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise BackupError(
            _("%(program)s is not installed (Debian: apt-get install postgresql-client).")
            % {"program": command[0]}
        ) from None
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BackupError(_("%(what)s failed: %(message)s") % {"what": what, "message": last[:300]})


def _dump(folder: Path) -> tuple[str, Path]:
    """A consistent copy of the default database in `folder`: (vendor, file)."""
    database = connection.settings_dict
    if database["ENGINE"] == SQLITE:
        target = folder / SQLITE_MEMBER
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        try:
            # One step (all pages at once) under a read lock: a consistent snapshot, and the
            # same connection's own uncommitted writes are what a backup of it sees.
            connection.connection.backup(copy)
        finally:
            copy.close()
        return "sqlite", target
    if database["ENGINE"] == POSTGRES:
        target = folder / POSTGRES_MEMBER
        _run(
            ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "--file", str(target)],
            _pg_env(database),
            "pg_dump",
        )
        return "postgresql", target
    raise BackupError(_("Backups support SQLite and PostgreSQL only."))


def tables_in(database: dict[str, Any]) -> list[str]:
    """The tables of a database given as Django's settings (it need not be Django's
    connection): empty for a database that does not exist yet as a SQLite file."""
    if database["ENGINE"] == SQLITE:
        path = str(database["NAME"])
        if not path.startswith("file:") and not Path(path).exists():
            return []
        with contextlib.closing(sqlite3.connect(path, uri=path.startswith("file:"))) as db:
            rows = db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            ).fetchall()
        return [row[0] for row in rows]
    if database["ENGINE"] == POSTGRES:
        import psycopg
        from psycopg.conninfo import make_conninfo

        # In this process libpq reads the environment itself (PGPASSFILE, PGSSLMODE, ...).
        conninfo = make_conninfo(**_libpq_params(database))
        with psycopg.connect(conninfo) as db:
            rows = db.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
        return [row[0] for row in rows]
    raise BackupError(_("Backups support SQLite and PostgreSQL only."))


def _load(vendor: str, dump: Path, database: dict[str, Any]) -> None:
    if vendor == "sqlite":
        if database["ENGINE"] != SQLITE:
            raise BackupError(_("This backup is of a SQLite database; restore it into SQLite."))
        name = str(database["NAME"])
        if not name.startswith("file:"):
            # The owner's alone from the first byte, as Krov keeps its SQLite files.
            os.close(os.open(name, os.O_WRONLY | os.O_CREAT, 0o600))
        source = sqlite3.connect(dump)
        target = sqlite3.connect(name, uri=name.startswith("file:"))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    if database["ENGINE"] != POSTGRES:
        raise BackupError(_("This backup is of a PostgreSQL database; restore it into PostgreSQL."))
    _run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            str(database["NAME"]),
            str(dump),
        ],
        _pg_env(database),
        "pg_restore",
    )


# --- packing -----------------------------------------------------------------------------


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    """Regular files and folders only, owned by nobody in particular."""
    if not (info.isfile() or info.isdir()):
        return None
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


def _pack(stream: BinaryIO, manifest: dict, dump: Path, member: str, media_root: Path) -> int:
    files = 0
    with tarfile.open(fileobj=stream, mode="w|") as tar:
        body = json.dumps(manifest, indent=2).encode()
        info = tarfile.TarInfo(MANIFEST)
        info.size = len(body)
        info.mtime = int(timezone.now().timestamp())
        info.mode = 0o600
        tar.addfile(info, io.BytesIO(body))
        tar.add(dump, arcname=member, filter=_plain)
        if media_root.is_dir():
            for path in sorted(media_root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    tar.add(path, arcname=f"{MEDIA}/{path.relative_to(media_root)}", filter=_plain)
                    files += 1
    return files


def _private_folder(data_dir: Path, prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix, dir=data_dir))  # mkdtemp: mode 700


def create(
    out: Path,
    recipients: list[pyrage.x25519.Recipient],
    *,
    media_root: Path | None = None,
    data_dir: Path | None = None,
) -> Summary:
    """Write an encrypted backup of the default database and the media to `out` (mode 600;
    refused if it exists) and record its time in the data directory."""
    media_root = Path(media_root or settings.MEDIA_ROOT)
    data_dir = Path(data_dir or settings.DATA_DIR)
    out = Path(out)
    if out.exists():
        raise BackupError(_("%(path)s exists already; choose a new file name.") % {"path": out})
    partial = out.with_name(out.name + ".partial")
    folder = _private_folder(data_dir, ".backup-")
    try:
        vendor, dump = _dump(folder)
        manifest = {
            "format": FORMAT,
            "vendor": vendor,
            "created_at": timezone.now().isoformat(),
        }
        member = SQLITE_MEMBER if vendor == "sqlite" else POSTGRES_MEMBER
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise BackupError(
                _("Cannot create %(path)s: %(error)s") % {"path": partial, "error": exc.strerror}
            ) from None
        with os.fdopen(fd, "wb") as sink:
            media_files = _encrypt_stream(sink, recipients, manifest, dump, member, media_root)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, out)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    size = out.stat().st_size
    _record(data_dir, vendor, size)
    return Summary(vendor=vendor, media_files=media_files, size=size)


def _encrypt_stream(
    sink: BinaryIO,
    recipients: list[pyrage.x25519.Recipient],
    manifest: dict,
    dump: Path,
    member: str,
    media_root: Path,
) -> int:
    """Pack in a thread into a pipe that pyrage reads and encrypts into `sink`: the tar is
    never whole anywhere in plaintext."""
    read_fd, write_fd = os.pipe()
    result: dict[str, Any] = {}

    def packer() -> None:
        try:
            with os.fdopen(write_fd, "wb") as pipe:
                result["files"] = _pack(pipe, manifest, dump, member, media_root)
        except BaseException as exc:  # handed to the main thread
            result["error"] = exc

    thread = threading.Thread(target=packer, name="krov-backup-pack", daemon=True)
    thread.start()
    with os.fdopen(read_fd, "rb") as source:
        try:
            pyrage.encrypt_io(source, sink, recipients)
        finally:
            # The packer gets a broken pipe rather than waiting forever if encryption stopped.
            source.close()
            thread.join()
    if "error" in result:
        raise BackupError(
            _("Packing the backup failed: %(error)s") % {"error": type(result["error"]).__name__}
        )
    return int(result["files"])


def _record(data_dir: Path, vendor: str, size: int) -> None:
    record = {"finished_at": timezone.now().isoformat(), "vendor": vendor, "size": size}
    path = data_dir / RECORD
    partial = data_dir / (RECORD + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(record, fh)
    os.replace(partial, path)


def last_backup(data_dir: Path | None = None) -> datetime | None:
    """When the last `krov backup` into this data directory finished, if one did."""
    path = Path(data_dir or settings.DATA_DIR) / RECORD
    try:
        record = json.loads(path.read_text())
        finished = datetime.fromisoformat(record["finished_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return finished if timezone.is_aware(finished) else None


# --- retention -------------------------------------------------------------------------

# What `prune` deletes in a folder of backups: backups, and pieces of failed ones.
BACKUP_SUFFIXES = (".age", ".age.partial")


def prune_limit(keep_days: int | None) -> int:
    """The days a backup may be kept: at most KROV_RETENTION_DAYS (a backup holds closed
    cases' text the live database has purged since), that by default."""
    retention = int(settings.KROV_RETENTION_DAYS)
    if keep_days is None:
        return retention
    if keep_days < 1:
        raise BackupError(_("Keep backups at least one day."))
    if keep_days > retention:
        raise BackupError(
            _(
                "A backup may not be kept longer than KROV_RETENTION_DAYS (%(days)s days): it "
                "holds the text of cases purged since it was made."
            )
            % {"days": retention}
        )
    return keep_days


def prune(
    folder: Path,
    *,
    keep_days: int | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> list[Path]:
    """Delete the backups in `folder` (files named *.age, and *.age.partial left by a failed
    run; not in subfolders, never through a link) made `keep_days` or more days ago, by
    their modification time, which `create` sets when it finishes. Returns what was (or,
    with `dry_run`, would be) deleted, oldest first."""
    limit = prune_limit(keep_days)
    folder = Path(folder)
    if not folder.is_dir():
        raise BackupError(_("%(path)s is not a folder.") % {"path": folder})
    cutoff = (now or timezone.now()).timestamp() - limit * 86400
    old: list[tuple[float, Path]] = []
    for path in folder.iterdir():
        if not path.name.endswith(BACKUP_SUFFIXES) or path.is_symlink() or not path.is_file():
            continue
        modified = path.stat().st_mtime
        if modified <= cutoff:
            old.append((modified, path))
    old.sort()
    if not dry_run:
        for _modified, path in old:
            path.unlink(missing_ok=True)
    return [path for _modified, path in old]


# --- restoring ---------------------------------------------------------------------------


def _unpack(stream: BinaryIO, folder: Path) -> None:
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for info in tar:
            name = info.name
            if name not in (MANIFEST, SQLITE_MEMBER, POSTGRES_MEMBER) and not (
                name.startswith(MEDIA + "/") or name == MEDIA
            ):
                continue
            tar.extract(info, folder, filter="data")


def _decrypt_stream(source: BinaryIO, identities: list, folder: Path) -> None:
    read_fd, write_fd = os.pipe()
    result: dict[str, BaseException] = {}

    def unpacker() -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            try:
                _unpack(pipe, folder)
            except BaseException as exc:  # handed to the main thread
                result["error"] = exc
            # Drain what is left, so the decrypting side never blocks on a full pipe.
            while pipe.read(1 << 16):
                pass

    thread = threading.Thread(target=unpacker, name="krov-restore-unpack", daemon=True)
    thread.start()
    decrypt_error: Exception | None = None
    with os.fdopen(write_fd, "wb") as sink:
        try:
            pyrage.decrypt_io(source, sink, identities)
        except (pyrage.DecryptError, pyrage.IdentityError, OSError) as exc:
            decrypt_error = exc
    thread.join()
    if decrypt_error is not None:
        raise BackupError(
            _(
                "Cannot decrypt the backup: it is not encrypted to this identity, or the file "
                "is damaged or incomplete."
            )
        )
    if "error" in result:
        raise BackupError(_("The decrypted file is not a Krov backup."))


def restore(
    source: Path,
    identities: list[pyrage.x25519.Identity],
    *,
    database: dict[str, Any] | None = None,
    media_root: Path | None = None,
    data_dir: Path | None = None,
) -> Summary:
    """Load a backup into an empty database (Django's default unless `database`, given as
    settings) and its media into `media_root`. Nothing is loaded unless the whole file
    decrypted and unpacked."""
    database = dict(database or settings.DATABASES["default"])
    media_root = Path(media_root or settings.MEDIA_ROOT)
    data_dir = Path(data_dir or settings.DATA_DIR)
    if tables_in(database):
        raise BackupError(
            _(
                "The database already holds tables: restore only into an empty database "
                "(create a new one, point DATABASE_URL at it, and do not run migrate first)."
            )
        )
    folder = _private_folder(data_dir, ".restore-")
    try:
        try:
            handle = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise BackupError(
                _("Cannot read %(path)s: %(error)s") % {"path": source, "error": exc.strerror}
            ) from None
        with handle:
            _decrypt_stream(handle, identities, folder)
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
        except (OSError, ValueError):
            raise BackupError(_("The decrypted file is not a Krov backup.")) from None
        if manifest.get("format") != FORMAT or manifest.get("vendor") not in (
            "sqlite",
            "postgresql",
        ):
            raise BackupError(_("This backup's format is not one this version of Krov reads."))
        vendor = manifest["vendor"]
        dump = folder / (SQLITE_MEMBER if vendor == "sqlite" else POSTGRES_MEMBER)
        if not dump.is_file():
            raise BackupError(_("The decrypted file is not a Krov backup."))
        _load(vendor, dump, database)
        media_files = 0
        staged_media = folder / MEDIA
        if staged_media.is_dir():
            for path in sorted(staged_media.rglob("*")):
                if path.is_file():
                    target = media_root / path.relative_to(staged_media)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(path, target)
                    media_files += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return Summary(vendor=vendor, media_files=media_files)
