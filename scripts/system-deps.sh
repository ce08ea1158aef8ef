#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: chromium (browser tests), nginx (scale-out test),
# wrk (benchmarks). Only when missing, and only when we can (root with apt-get); otherwise it says what is missing.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 \
    || apt-get install -y -qq --no-install-recommends "${need[@]/nginx-light/nginx}" >/dev/null \
    || echo "warning: could not install ${need[*]}; tests that need them will be skipped" >&2
  # nginx from Debian starts a service on install in some images; the tests run their own.
  command -v service >/dev/null 2>&1 && service nginx stop >/dev/null 2>&1 || true
else
  echo "note: missing ${need[*]} (run as root, or install them, to run every test)" >&2
fi
exit 0
