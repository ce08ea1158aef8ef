#!/usr/bin/env bash
# Restores a deploy/backup.sh dump into DATABASE_URL, which should be a new, empty database:
#
#   createdb community_restored
#   DATABASE_URL=postgresql://user:pass@host:5432/community_restored deploy/restore.sh BACKUP_FILE
#
# It refuses to touch a database that already has tables, unless --force: then the dump's objects are
# dropped and recreated (other tables are left alone). Everything runs in one transaction: a failed restore
# leaves the database as it was.
#
# Environment: DATABASE_URL (required), PG_BIN (directory of pg_restore/psql, default PATH; see backup.sh).
set -euo pipefail

die() { echo "restore: $*" >&2; exit 1; }
usage() { echo "usage: DATABASE_URL=... $0 [--force] BACKUP_FILE" >&2; exit 2; }

force=0
file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force) force=1 ;;
    -h|--help) usage ;;
    -*) echo "restore: unknown option $1" >&2; usage ;;
    *) [ -z "$file" ] || usage; file="$1" ;;
  esac
  shift
done
[ -n "$file" ] || usage
[ -r "$file" ] || die "cannot read $file"
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set"
url="${DATABASE_URL/postgresql+asyncpg:/postgresql:}"
url="${url/postgres+asyncpg:/postgresql:}"

bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "${PG_BIN%/}/$1"; else command -v "$1" || die "$1 not found (set PG_BIN)"; fi
}
pg_restore=$(bin pg_restore)
psql=$(bin psql)

"$pg_restore" --list "$file" >/dev/null || die "$file is not a pg_dump custom-format archive"

# Any table, view, sequence or materialized view outside the system schemas means "not empty".
existing=$("$psql" --dbname="$url" --no-password --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 \
  --command="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
               AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'") \
  || die "cannot connect to the target database"
existing="${existing//[[:space:]]/}"

clean=()
if [ "$existing" != "0" ]; then
  if [ "$force" != "1" ]; then
    die "the target database is not empty ($existing relations); refusing to overwrite it. Restore into a new database, or pass --force to replace the dump's objects."
  fi
  echo "restore: --force: replacing the objects of the dump in a non-empty database ($existing relations)" >&2
  clean=(--clean --if-exists)
fi

"$pg_restore" --dbname="$url" --no-password --no-owner --no-privileges --exit-on-error --single-transaction \
  "${clean[@]}" "$file"
"$psql" --dbname="$url" --no-password --no-psqlrc --quiet -v ON_ERROR_STOP=1 --command="ANALYZE" >/dev/null
echo "restore: restored $file"
