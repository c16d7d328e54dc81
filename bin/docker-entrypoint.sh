#!/bin/sh
# Container entrypoint: wait for the database, apply migrations (which also keep the task schedules), then replace
# this shell with the command (gunicorn by default; `python manage.py qcluster` for the task worker), so that the
# server runs as PID 1 and receives SIGTERM directly.
#
#   MIGRATE_ON_START=false  skip waiting and migrating (when a release job migrates instead)
#   MIGRATE_RETRIES=30      attempts to reach the database, one second apart, before giving up
#
# Outside Docker it works the same, with the virtualenv's python first on PATH: bin/docker-entrypoint.sh [command]
set -eu

cd "$(dirname "$0")/.."

# sh as PID 1 ignores signals it does not trap: without these, `docker stop` would wait out the retries.
trap 'exit 130' INT
trap 'exit 143' TERM

if [ "$#" -eq 0 ]; then
    set -- gunicorn --config gunicorn.conf.py
fi

log() {
    echo "docker-entrypoint: $*" >&2
}

# Exit status 75 (EX_TEMPFAIL) means "the database did not answer, try again"; anything else that fails (a malformed
# DATABASE_URL, a broken setting) fails at once instead of being retried.
check_database='
import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "registry.settings")
django.setup()

from django.db import DatabaseError, connection

try:
    connection.ensure_connection()
except DatabaseError as exc:
    print(f"database not ready: {str(exc).strip()}", file=sys.stderr)
    sys.exit(75)
'

migrate_on_start=$(printf '%s' "${MIGRATE_ON_START:-true}" | tr '[:upper:]' '[:lower:]')
case "$migrate_on_start" in
    false | 0 | no | off)
        log "MIGRATE_ON_START=$migrate_on_start: not migrating"
        ;;
    *)
        retries=${MIGRATE_RETRIES:-30}
        case "$retries" in
            '' | *[!0-9]* | 0)
                log "MIGRATE_RETRIES must be a positive integer, not '$retries'"
                exit 64
                ;;
        esac
        attempt=1
        while :; do
            status=0
            python -c "$check_database" || status=$?
            if [ "$status" -eq 0 ]; then
                break
            fi
            if [ "$status" -ne 75 ]; then
                log "database check failed (exit status $status); not starting"
                exit "$status"
            fi
            if [ "$attempt" -ge "$retries" ]; then
                log "database unavailable after $attempt attempt(s); not starting"
                exit 1
            fi
            log "waiting for the database (attempt $attempt of $retries)"
            attempt=$((attempt + 1))
            sleep 1
        done
        python manage.py migrate --noinput
        ;;
esac

exec "$@"
