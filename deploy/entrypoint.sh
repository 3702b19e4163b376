#!/bin/sh
# Krov's entry point: the container's ENTRYPOINT, and what systemd units and
# `make deploy-check` run too, so the three start Krov the same way.
#
#   entrypoint.sh web       gunicorn -c python:krov.gunicorn_conf krov.wsgi
#   entrypoint.sh worker    krov run_huey
#   entrypoint.sh migrate   krov migrate, then krov check --deploy (errors fail it)
#   entrypoint.sh krov ARGS any other krov command (backup, restore, upgrade, demo, ...)
#
# Environment, beyond Krov's own settings (README, "Configuration"):
#   KROV_BIND            web: address:port to listen on (default 0.0.0.0:8000)
#   KROV_WEB_WORKERS     web: gunicorn worker processes (default 2 x cores + 1, at most 8)
#   KROV_WEB_TIMEOUT     web: seconds before a stuck worker is replaced (default 30)
#   KROV_WORKER_THREADS  worker: Huey worker threads (default 4)
#   DATABASE_URL_FILE    a file holding DATABASE_URL (its password stays out of the env)
#   REDIS_URL_FILE       a file holding REDIS_URL
#   KROV_STATIC_ROOT     static files collected at build time (the image sets it to
#                        /opt/krov/static); Krov's settings serve from there
#   KROV_STATIC_SOURCE   the older way: taken as KROV_STATIC_ROOT when that is unset
#   PROMETHEUS_MULTIPROC_DIR  web: emptied at start (prometheus-client multiprocess mode)
set -eu

read_secret_url() {
    # DATABASE_URL_FILE / REDIS_URL_FILE -> DATABASE_URL / REDIS_URL, unless already set.
    name=$1
    eval "file=\${${name}_FILE:-}"
    eval "value=\${${name}:-}"
    if [ -n "$file" ] && [ -z "$value" ]; then
        if [ ! -r "$file" ]; then
            echo "krov: ${name}_FILE: cannot read $file" >&2
            exit 78
        fi
        value=$(cat "$file")
        export "$name=$value"
    fi
}

prepare() {
    read_secret_url DATABASE_URL
    read_secret_url REDIS_URL
    if [ -z "${KROV_DATA_DIR:-}" ]; then
        echo "krov: KROV_DATA_DIR is not set" >&2
        exit 78
    fi
    # Static files are built into the image (read-only, KROV_STATIC_ROOT); the data
    # directory is a volume and holds none of them. Images and units of earlier versions
    # named the folder KROV_STATIC_SOURCE (and linked it into the data directory).
    if [ -z "${KROV_STATIC_ROOT:-}" ] && [ -n "${KROV_STATIC_SOURCE:-}" ]; then
        export KROV_STATIC_ROOT="$KROV_STATIC_SOURCE"
    fi
}

default_workers() {
    cores=$(nproc 2>/dev/null || echo 1)
    workers=$((cores * 2 + 1))
    [ "$workers" -gt 8 ] && workers=8
    echo "$workers"
}

command=${1:-web}
[ $# -gt 0 ] && shift

case "$command" in
    web)
        prepare
        if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
            mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
            # Counts of the previous run are gone; prometheus-client's files start afresh.
            find "$PROMETHEUS_MULTIPROC_DIR" -maxdepth 1 -name '*.db' -type f -delete
        fi
        exec gunicorn -c python:krov.gunicorn_conf \
            --bind "${KROV_BIND:-0.0.0.0:8000}" \
            --workers "${KROV_WEB_WORKERS:-$(default_workers)}" \
            --timeout "${KROV_WEB_TIMEOUT:-30}" \
            --graceful-timeout 20 \
            --worker-tmp-dir "${TMPDIR:-/tmp}" \
            --no-control-socket \
            "$@" krov.wsgi
        ;;
    worker)
        prepare
        exec krov run_huey --workers "${KROV_WORKER_THREADS:-4}" --worker-type thread "$@"
        ;;
    migrate)
        prepare
        krov migrate --no-input "$@"
        # Errors stop here; warnings (e.g. no team key yet on a fresh install) are shown.
        exec krov check --deploy
        ;;
    krov)
        prepare
        exec krov "$@"
        ;;
    -h | --help | help)
        sed -n '2,20p' "$0"
        ;;
    *)
        echo "krov: unknown command '$command' (web, worker, migrate, krov ...)" >&2
        exit 64
        ;;
esac
