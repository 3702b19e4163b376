"""Start-up fails with one clear line for each bad setting; production settings pass
`check --deploy` without a warning."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

PRODUCTION = {
    "KROV_DEBUG": "0",
    "KROV_SECRET_KEY": "p" * 30 + "-production-secret-key-for-the-check-0123456789",
    "KROV_ALLOWED_HOSTS": "krov.example.org",
    "KROV_SITE_URL": "https://krov.example.org",
    "KROV_FIELD_KEYS": Fernet.generate_key().decode(),
}


def run_krov(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KROV_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))
    }
    base["KROV_DATA_DIR"] = str(tmp_path)
    base.update(env)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "krov", *args],
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "variable", "phrase"),
    [
        ({"DATABASE_URL": "mysql-ish://nowhere"}, "DATABASE_URL", "database URL"),
        ({"DATABASE_URL": "mysql://u@h/db"}, "DATABASE_URL", "only sqlite"),
        ({"KROV_FIELD_KEYS": "not-a-key"}, "KROV_FIELD_KEYS", "not a Fernet key"),
        ({"KROV_DEFAULT_LANGUAGE": "fr"}, "KROV_DEFAULT_LANGUAGE", "unknown language"),
        ({"KROV_DEBUG": "maybe"}, "KROV_DEBUG", "expected 1/0"),
        ({"KROV_TRUSTED_PROXIES": "two"}, "KROV_TRUSTED_PROXIES", "whole number"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL", "redis://"),
        ({"KROV_TIME_ZONE": "Mars/Olympus"}, "KROV_TIME_ZONE", "unknown time zone"),
    ],
)
def test_bad_setting_stops_startup_with_one_line_naming_it(tmp_path, env, variable, phrase):
    result = run_krov(tmp_path, "check", KROV_DEBUG=env.pop("KROV_DEBUG", "1"), **env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0]
    assert phrase in lines[0]


@pytest.mark.parametrize("missing", ["KROV_SECRET_KEY", "KROV_ALLOWED_HOSTS", "KROV_FIELD_KEYS"])
def test_production_refuses_to_start_without_required_secret(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = run_krov(tmp_path, "check", **env)
    assert result.returncode == 2
    assert missing in result.stderr
    assert "required" in result.stderr


def test_debug_generates_field_key_once_under_data_dir(tmp_path):
    first = run_krov(tmp_path, "check", KROV_DEBUG="1")
    assert first.returncode == 0, first.stderr
    key = (tmp_path / "field-keys.txt").read_text()
    Fernet(key)
    assert oct((tmp_path / "field-keys.txt").stat().st_mode)[-3:] == "600"
    run_krov(tmp_path, "check", KROV_DEBUG="1")
    assert (tmp_path / "field-keys.txt").read_text() == key


def test_production_settings_pass_deploy_check_silently(tmp_path):
    collected = run_krov(tmp_path, "collectstatic", "--noinput", "-v", "0", **PRODUCTION)
    assert collected.returncode == 0, collected.stderr
    result = run_krov(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(PRODUCTION["KROV_SECRET_KEY"])
    env = {k: v for k, v in PRODUCTION.items() if k != "KROV_SECRET_KEY"}
    result = run_krov(tmp_path, "check", KROV_SECRET_KEY_FILE=str(secret_file), **env)
    assert result.returncode == 0, result.stderr


def test_field_keys_can_come_from_a_file(tmp_path):
    keys_file = tmp_path / "field-keys"
    keys_file.write_text(Fernet.generate_key().decode() + "," + Fernet.generate_key().decode())
    env = {k: v for k, v in PRODUCTION.items() if k != "KROV_FIELD_KEYS"}
    result = run_krov(tmp_path, "check", KROV_FIELD_KEYS_FILE=str(keys_file), **env)
    assert result.returncode == 0, result.stderr


def redis_answers() -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    not redis_answers() and os.environ.get("CI") != "true", reason="no Redis on 127.0.0.1:6379"
)
def test_redis_url_moves_queue_and_cache_to_redis(tmp_path):
    script = (
        "import json; from django.conf import settings; from huey.contrib.djhuey import HUEY; "
        "from django.core.cache import cache; from krov.core.health import run_checks; "
        "cache.set('krov-probe', 'ok', 5); ok, report = run_checks(); "
        "print(json.dumps([type(HUEY).__name__, settings.CACHES['default']['BACKEND'], "
        "cache.get('krov-probe'), ok, report['queue']['backend']]))"
    )
    result = run_krov(
        tmp_path, "shell", "-c", script, KROV_DEBUG="1", REDIS_URL="redis://127.0.0.1:6379/15"
    )
    assert result.returncode == 0, result.stderr
    import json

    huey_class, cache_backend, probe, healthy, backend = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert huey_class == "PriorityRedisHuey"
    assert cache_backend == "django.core.cache.backends.redis.RedisCache"
    assert probe == "ok"
    assert healthy is True
    assert backend == "PriorityRedisHuey"


def test_missing_data_dir_in_production_is_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    result = run_krov(tmp_path, "check", **{**PRODUCTION, "KROV_DATA_DIR": str(missing)})
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "KROV_DATA_DIR" in line and "does not exist" in line


def test_data_dir_that_is_a_file_is_one_line(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = run_krov(tmp_path, "check", KROV_DEBUG="1", KROV_DATA_DIR=str(a_file))
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "KROV_DATA_DIR" in line and "not a directory" in line


@pytest.mark.parametrize(
    "command",
    [
        ["-c", "import krov.wsgi"],  # what gunicorn imports
        ["-m", "krov", "run_huey"],  # the worker
    ],
)
def test_gunicorn_and_worker_give_the_same_one_line(tmp_path, command):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KROV_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(PRODUCTION, KROV_DATA_DIR=str(tmp_path / "nowhere"))
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode in {2, 4}
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("krov: configuration error: KROV_DATA_DIR")


def test_debug_creates_the_data_dir_owner_only(tmp_path):
    fresh = tmp_path / "fresh" / "var"
    result = run_krov(tmp_path, "check", KROV_DEBUG="1", KROV_DATA_DIR=str(fresh))
    assert result.returncode == 0, result.stderr
    assert oct(fresh.stat().st_mode)[-3:] == "700"


def test_sqlite_files_are_owner_only_and_deleted_rows_are_overwritten(tmp_path):
    script = (
        "import os; os.umask(0o022)\n"
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.db import connection\n"
        "c = connection.cursor(); c.execute('PRAGMA secure_delete'); print(c.fetchone()[0])\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KROV_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(KROV_DEBUG="1", KROV_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="krov.settings")
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "1"
    for name in ["krov.sqlite3", "secret-key.txt", "field-keys.txt"]:
        assert oct((tmp_path / name).stat().st_mode)[-3:] == "600", name
    assert oct((tmp_path / "mail").stat().st_mode)[-3:] == "700"


def test_hsts_preload_and_subdomains_are_opt_in(tmp_path):
    script = (
        "from django.conf import settings; "
        "print(settings.SECURE_HSTS_SECONDS, settings.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "settings.SECURE_HSTS_PRELOAD)"
    )
    default = run_krov(tmp_path, "shell", "-c", script, **PRODUCTION)
    assert default.stdout.strip().splitlines()[-1].split() == ["31536000", "False", "False"]
    opted = run_krov(
        tmp_path,
        "shell",
        "-c",
        script,
        KROV_HSTS_INCLUDE_SUBDOMAINS="1",
        KROV_HSTS_PRELOAD="1",
        **PRODUCTION,
    )
    assert opted.stdout.strip().splitlines()[-1].split() == ["31536000", "True", "True"]


@pytest.mark.parametrize(
    ("env", "code"),
    [
        ({"KROV_ALLOWED_HOSTS": "*"}, "krov.W001"),
        ({"KROV_SITE_URL": "http://krov.example.org"}, "krov.W002"),
        ({"TELEGRAM_WEBHOOK_SECRET": "has spaces and ü"}, "krov.E003"),
        ({"DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}, "krov.E004"),
        ({"REDIS_URL": "redis://127.0.0.1:1/0"}, "krov.E005"),
        ({}, "krov.W020"),  # static files never collected: every page would answer 500
    ],
)
def test_deploy_check_names_what_a_production_set_up_gets_wrong(tmp_path, env, code):
    result = run_krov(tmp_path, "check", "--deploy", **{**PRODUCTION, **env})
    assert code in result.stdout + result.stderr, result.stdout + result.stderr
