#!/usr/bin/env bash
# Installs what pgrepl and its tests need when it is missing: PostgreSQL server programs (12+), and
# Debian's Chromium for the console's browser test (which skips, saying so, where it cannot be had).
# Idempotent and quiet when everything is present. Used by `npm test` and by the README's main command.
set -euo pipefail

have_server() {
  local dir
  for dir in "${PGREPL_BINDIR:-}" "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_basebackup" ] && [ -x "$dir/postgres" ] && return 0
  done
  command -v initdb >/dev/null && command -v pg_basebackup >/dev/null && command -v postgres >/dev/null
}

# The console's browser test drives Debian's Chromium; without root or apt-get it is skipped instead.
ensure_chromium() {
  command -v chromium >/dev/null && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
    echo "pgrepl: chromium not found; the console's browser test will be skipped (install it: apt-get install chromium)" >&2
    return 0
  fi
  echo "pgrepl: installing chromium with apt-get for the console's browser test ..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null; } \
    || echo "pgrepl: could not install chromium; the console's browser test will be skipped" >&2
}

if have_server; then ensure_chromium; exit 0; fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "pgrepl: PostgreSQL server programs not found; install them (e.g. 'sudo apt-get install postgresql' or 'brew install postgresql') and retry" >&2
  exit 1
fi

echo "pgrepl: installing PostgreSQL server programs with apt-get ..." >&2
# Debian's package would otherwise create and start a 'main' cluster on port 5432, taking the port
# pgrepl's first node wants. pgrepl runs its own servers.
if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  mkdir -p /etc/postgresql-common
  echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq postgresql postgresql-contrib >/dev/null
have_server
ensure_chromium
