"""`krov check --deploy` warns when the hashed static files' manifest is missing (every page
would answer 500) or stale against the installed code (files added or changed since
`krov collectstatic`); KROV_STATIC_ROOT says where they are."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.management import call_command

from krov.core.checks import check_static_manifest

MANIFEST_STORAGE = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}


@pytest.fixture
def extra_static(tmp_path):
    """A static folder of the 'installed code' besides the apps' own, to change files in."""
    folder = tmp_path / "code-static"
    (folder / "krov-test").mkdir(parents=True)
    (folder / "krov-test" / "extra.css").write_text("body { color: black; }\n")
    return folder


@pytest.fixture
def production_static(settings, tmp_path, extra_static):
    settings.STATIC_ROOT = tmp_path / "collected"
    settings.STORAGES = MANIFEST_STORAGE
    settings.STATICFILES_DIRS = [str(extra_static)]
    return settings.STATIC_ROOT


def ids(problems) -> list[str]:
    return [problem.id for problem in problems]


def test_a_missing_manifest_is_reported_with_the_command_that_makes_it(production_static):
    problems = check_static_manifest()
    assert ids(problems) == ["krov.W020"]
    assert "collectstatic" in problems[0].hint
    assert str(production_static) in problems[0].hint


def test_freshly_collected_static_files_pass(production_static):
    call_command("collectstatic", interactive=False, verbosity=0)
    assert check_static_manifest() == []


def test_a_file_added_to_the_code_after_collecting_makes_the_manifest_stale(
    production_static, extra_static
):
    call_command("collectstatic", interactive=False, verbosity=0)
    (extra_static / "krov-test" / "new.js").write_text("console.log(1);\n")
    problems = check_static_manifest()
    assert ids(problems) == ["krov.W021"]
    assert "1 file(s) missing" in problems[0].msg
    assert "krov-test/new.js" in problems[0].msg


def test_a_file_changed_in_the_code_after_collecting_makes_the_manifest_stale(
    production_static, extra_static
):
    call_command("collectstatic", interactive=False, verbosity=0)
    (extra_static / "krov-test" / "extra.css").write_text("body { color: red; }\n")
    problems = check_static_manifest()
    assert ids(problems) == ["krov.W021"]
    assert "1 changed" in problems[0].msg


def test_development_storage_needs_no_manifest(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path / "nothing-here"
    settings.STORAGES = {
        **MANIFEST_STORAGE,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert check_static_manifest() == []


def test_krov_static_root_moves_the_static_files_out_of_the_data_dir(tmp_path):
    static = tmp_path / "opt-static"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KROV_", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        KROV_DEBUG="1",
        KROV_DATA_DIR=str(tmp_path / "data"),
        KROV_STATIC_ROOT=str(static),
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and module
        [
            sys.executable,
            "-m",
            "krov",
            "shell",
            "-c",
            "from django.conf import settings; print(settings.STATIC_ROOT)",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(static)
