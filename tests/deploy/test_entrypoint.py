"""deploy/entrypoint.sh: what the container, the systemd units and `make deploy-check` run.

Run with stand-ins for `gunicorn` and `krov` on PATH that print what they were given, so
these tests start nothing (make deploy-check runs the real thing)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "deploy" / "entrypoint.sh"

STAND_IN = """#!/bin/sh
echo "$(basename "$0") $*"
echo "DATABASE_URL=${DATABASE_URL:-}"
echo "REDIS_URL=${REDIS_URL:-}"
echo "KROV_STATIC_ROOT=${KROV_STATIC_ROOT:-}"
"""


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    for name in ("gunicorn", "krov"):
        program = folder / name
        program.write_text(STAND_IN)
        program.chmod(0o755)
    return folder


def run_entrypoint(
    fake_bin: Path, tmp_path: Path, *args: str, **env: str
) -> subprocess.CompletedProcess:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    environment = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "KROV_DATA_DIR": str(data),
        "HOME": str(tmp_path),
        **env,
    }
    return subprocess.run(  # noqa: S603 - our own script
        ["sh", str(ENTRYPOINT), *args],  # noqa: S607
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_entrypoint_scripts_are_valid_posix_shell():
    for script in ("entrypoint.sh", "make-secrets.sh"):
        done = subprocess.run(  # noqa: S603
            ["sh", "-n", str(ROOT / "deploy" / script)],  # noqa: S607
            capture_output=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr


def test_web_runs_gunicorn_with_krovs_configuration_and_bind(fake_bin, tmp_path):
    done = run_entrypoint(
        fake_bin, tmp_path, "web", KROV_BIND="127.0.0.1:8123", KROV_WEB_WORKERS="3"
    )
    assert done.returncode == 0, done.stderr
    command = done.stdout.splitlines()[0].split()
    assert command[0] == "gunicorn"
    assert command[1:3] == ["-c", "python:krov.gunicorn_conf"]
    assert command[command.index("--bind") + 1] == "127.0.0.1:8123"
    assert command[command.index("--workers") + 1] == "3"
    # gunicorn 27's control socket would be written under $HOME (read-only, shared).
    assert "--no-control-socket" in command
    assert command[-1] == "krov.wsgi"


def test_web_empties_the_prometheus_multiprocess_folder(fake_bin, tmp_path):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    (metrics / "counter_123.db").write_bytes(b"old")
    done = run_entrypoint(fake_bin, tmp_path, "web", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    assert done.returncode == 0, done.stderr
    assert list(metrics.iterdir()) == []


def test_worker_runs_huey_with_threads(fake_bin, tmp_path):
    done = run_entrypoint(fake_bin, tmp_path, "worker", KROV_WORKER_THREADS="5")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "krov run_huey --workers 5 --worker-type thread"


def test_migrate_migrates_then_checks_the_deployment(fake_bin, tmp_path):
    done = run_entrypoint(fake_bin, tmp_path, "migrate")
    assert done.returncode == 0, done.stderr
    commands = [line for line in done.stdout.splitlines() if line.startswith("krov ")]
    assert commands == ["krov migrate --no-input", "krov check --deploy"]


def test_database_and_redis_urls_are_read_from_files(fake_bin, tmp_path):
    (tmp_path / "db").write_text("postgres://krov:secret@db/krov\n")
    (tmp_path / "redis").write_text("redis://redis:6379/2\n")
    done = run_entrypoint(
        fake_bin,
        tmp_path,
        "krov",
        "backup",
        DATABASE_URL_FILE=str(tmp_path / "db"),
        REDIS_URL_FILE=str(tmp_path / "redis"),
    )
    assert done.returncode == 0, done.stderr
    assert "DATABASE_URL=postgres://krov:secret@db/krov" in done.stdout.splitlines()
    assert "REDIS_URL=redis://redis:6379/2" in done.stdout.splitlines()


def test_an_unreadable_url_file_stops_with_the_variables_name(fake_bin, tmp_path):
    done = run_entrypoint(fake_bin, tmp_path, "worker", DATABASE_URL_FILE=str(tmp_path / "missing"))
    assert done.returncode == 78
    assert "DATABASE_URL_FILE" in done.stderr
    assert done.stdout == ""


def test_static_files_built_into_the_image_are_served_from_where_they_were_built(
    fake_bin, tmp_path
):
    built = tmp_path / "image-static"
    built.mkdir()
    done = run_entrypoint(fake_bin, tmp_path, "web", KROV_STATIC_ROOT=str(built))
    assert done.returncode == 0, done.stderr
    assert f"KROV_STATIC_ROOT={built}" in done.stdout.splitlines()
    assert not (tmp_path / "data" / "static").exists()  # nothing of them in the data dir


def test_the_older_static_source_variable_still_names_the_static_root(fake_bin, tmp_path):
    built = tmp_path / "image-static"
    built.mkdir()
    done = run_entrypoint(fake_bin, tmp_path, "worker", KROV_STATIC_SOURCE=str(built))
    assert done.returncode == 0, done.stderr
    assert f"KROV_STATIC_ROOT={built}" in done.stdout.splitlines()


def test_unknown_command_is_refused(fake_bin, tmp_path):
    done = run_entrypoint(fake_bin, tmp_path, "serve")
    assert done.returncode == 64
    assert "unknown command" in done.stderr
