#!/bin/sh
# Container entrypoint: with no arguments, serve (the one-shot `migrate` service migrates and seeds first);
# otherwise run the given command, e.g. `community migrate`, `community housekeeping`, `sh`.
set -eu
if [ "$#" -eq 0 ]; then
  exec community serve --no-bootstrap --workers "${WORKERS:-4}" --host "${HOST:-0.0.0.0}" --port "${PORT:-8000}"
fi
exec "$@"
