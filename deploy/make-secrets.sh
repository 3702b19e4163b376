#!/bin/sh
# Writes the secret files deploy/compose.yaml mounts, once: ./secrets/NAME, mode 400,
# owned by uid 10001 (Krov's user in the image). Existing files are kept, never replaced.
#   TELEGRAM_BOT_TOKEN=123:ABC ./make-secrets.sh     # the bot's token from @BotFather
# KROV_FIELD_KEYS and KROV_SECRET_KEY are not in backups: keep a copy of secrets/ apart
# from the backups (a password manager, a sealed envelope).
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets

write() {
    name=$1
    value=$2
    if [ -e "secrets/$name" ]; then
        echo "kept    secrets/$name"
        return
    fi
    printf '%s\n' "$value" > "secrets/$name"
    chmod 400 "secrets/$name"
    echo "wrote   secrets/$name"
}

random() { openssl rand -hex "$1"; }

password=$(random 24)
if [ -e secrets/postgres_password ]; then
    password=$(cat secrets/postgres_password)
fi
write postgres_password "$password"
write database_url "postgres://krov:$password@postgres:5432/krov"
write krov_secret_key "$(random 40)"
# A Fernet key: 32 random bytes, URL-safe base64 (what `krov generate-field-key` prints).
write krov_field_keys "$(openssl rand 32 | base64 | tr '+/' '-_')"
write krov_metrics_token "$(random 32)"
write telegram_webhook_secret "$(random 32)"
write telegram_bot_token "${TELEGRAM_BOT_TOKEN:-}"

# The containers run as uid 10001 and compose mounts these files as they are.
if [ "$(id -u)" = 0 ]; then
    chown 10001:10001 secrets/*
    chown root:root secrets/postgres_password
elif command -v podman >/dev/null 2>&1; then
    echo "rootless podman: run 'podman unshare chown 10001:10001 secrets/*' once" >&2
else
    echo "make secrets/* readable by uid 10001 (e.g. sudo chown 10001:10001 secrets/*)" >&2
fi
