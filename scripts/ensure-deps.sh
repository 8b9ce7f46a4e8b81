#!/usr/bin/env bash
# Installs what pgrepl and its tests need when it is missing: PostgreSQL server programs (12+), and
# for the HA tests an etcd server binary and HAProxy, for the console's browser test Debian's Chromium.
# Idempotent and quiet when everything is present. Used by `npm test` and by the README's main command.
# `ensure-deps.sh compose-v1` installs only Compose v1 (Debian's docker-compose), for `npm run test:compose`.
set -euo pipefail

can_apt() { [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; }

apt_updated=
apt_update_once() {
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
}

have_server() {
  local dir
  for dir in "${PGREPL_BINDIR:-}" "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_basebackup" ] && [ -x "$dir/postgres" ] && return 0
  done
  command -v initdb >/dev/null && command -v pg_basebackup >/dev/null && command -v postgres >/dev/null
}

ensure_postgres() {
  if have_server; then return 0; fi
  if ! can_apt; then
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
  apt_update_once
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
  have_server
}

# Installs a Debian package whose postinst would start a system service (etcd on 2379, haproxy on
# its default config), without starting it and without enabling it for the next boot: pgrepl
# installs these only for its tests, which run their own instances on free ports. Returns apt's status.
install_without_service() {
  local package=$1 service=$2
  # The postinst starts the service through invoke-rc.d under sysvinit, deb-systemd-invoke under
  # systemd. Both ask policy-rc.d first: a temporary one that denies every start keeps the package
  # from starting anything.
  local policy=/usr/sbin/policy-rc.d placed=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# placed by pgrepl scripts/ensure-deps.sh while installing %s\nexit 101\n' "$package" > "$policy"
    chmod 755 "$policy"
    placed=1
  fi
  local status=0
  apt_update_once && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq "$package" >/dev/null || status=$?
  [ -n "$placed" ] && rm -f "$policy"
  if [ "$status" -eq 0 ]; then
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl disable --now "$service.service" >/dev/null 2>&1 || true
    elif command -v update-rc.d >/dev/null; then
      update-rc.d "$service" disable >/dev/null 2>&1 || true
    fi
  fi
  return "$status"
}

# etcd is only needed by the HA tests (they skip, naming what is missing, without it), so failing
# to install it is a warning, not an error.
ensure_etcd() {
  if [ -x "${PGREPL_ETCD:-/usr/bin/etcd}" ] || command -v etcd >/dev/null; then return 0; fi
  if ! can_apt; then
    echo "pgrepl: etcd not found; the etcd DCS tests will be skipped (install Debian's etcd-server to run them)" >&2
    return 0
  fi
  echo "pgrepl: installing etcd-server with apt-get ..." >&2
  install_without_service etcd-server etcd || echo "pgrepl: installing etcd-server failed; the etcd DCS tests will be skipped" >&2
}

# HAProxy is only needed by the load-balancer test (skipped, naming what is missing, without it).
ensure_haproxy() {
  if [ -x "${PGREPL_HAPROXY:-/usr/sbin/haproxy}" ] || command -v haproxy >/dev/null; then return 0; fi
  if ! can_apt; then
    echo "pgrepl: haproxy not found; the HAProxy test will be skipped (install Debian's haproxy to run it)" >&2
    return 0
  fi
  echo "pgrepl: installing haproxy with apt-get ..." >&2
  install_without_service haproxy haproxy || echo "pgrepl: installing haproxy failed; the HAProxy test will be skipped" >&2
}

# The console's browser test drives Debian's Chromium; it skips, saying so, without it.
ensure_chromium() {
  if command -v chromium >/dev/null; then return 0; fi
  if ! can_apt; then
    echo "pgrepl: chromium not found; the console's browser test will be skipped (install Debian's chromium to run it)" >&2
    return 0
  fi
  echo "pgrepl: installing chromium with apt-get for the console's browser test ..." >&2
  apt_update_once && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null \
    || echo "pgrepl: installing chromium failed; the console's browser test will be skipped" >&2
}

# Compose v1 (Debian 12's docker-compose 1.29) for the Compose v1 case of `npm run test:compose`,
# which skips, saying so, without it. Without recommends: they would pull docker.io and start a
# daemon; the engine is the Compose test's business (it runs ../shared/docker/setup.sh).
ensure_compose_v1() {
  if command -v docker-compose >/dev/null; then return 0; fi
  if ! can_apt; then
    echo "pgrepl: docker-compose not found; the Compose v1 test will be skipped (install Debian's docker-compose to run it)" >&2
    return 0
  fi
  echo "pgrepl: installing Debian's docker-compose (Compose v1) with apt-get for the Compose v1 test ..." >&2
  apt_update_once && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends docker-compose >/dev/null \
    || echo "pgrepl: installing docker-compose failed; the Compose v1 test will be skipped" >&2
}

if [ "${1:-}" = compose-v1 ]; then
  ensure_compose_v1
  exit 0
fi

ensure_postgres
ensure_etcd
ensure_haproxy
ensure_chromium
