#!/usr/bin/env bash
# The floor: the raw PostgreSQL tools doing what `pgrepl up --replicas 1` does, as a straight script.
# initdb, start, role and slot, pg_basebackup -X stream -c fast -R -S, start, probe visible on the replica.
# Usage: raw-bootstrap.sh WORKDIR PORT BINDIR   (run as the PostgreSQL OS user)
set -euo pipefail
work=$1 port=$2 bin=$3
replica_port=$((port + 1))
cd "$work"
printf 'superpw\n' > pw && chmod 600 pw
printf '*:*:*:postgres:superpw\n*:*:replication:repl:replpw\n' > pgpass && chmod 600 pgpass
export PGPASSFILE=$work/pgpass
"$bin/initdb" -D primary -U postgres --pwfile=pw --auth=scram-sha-256 --data-checksums --no-locale -E UTF8 >/dev/null
cat >> primary/postgresql.conf <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = ''
wal_level = replica
hot_standby = on
hot_standby_feedback = on
max_slot_wal_keep_size = '2GB'
CONF
echo "host replication repl 127.0.0.1/32 scram-sha-256" >> primary/pg_hba.conf
"$bin/pg_ctl" -D primary -l primary.log -w start >/dev/null
"$bin/psql" -XAtq -h 127.0.0.1 -p "$port" -U postgres -d postgres \
  -c "CREATE ROLE repl LOGIN REPLICATION PASSWORD 'replpw'" \
  -c "SELECT pg_create_physical_replication_slot('replica1', true)" >/dev/null
"$bin/pg_basebackup" -D replica -h 127.0.0.1 -p "$port" -U repl -X stream -c fast -R -S replica1 -w
echo "port = $replica_port" >> replica/postgresql.conf
"$bin/pg_ctl" -D replica -l replica.log -w start >/dev/null
"$bin/psql" -XAtq -h 127.0.0.1 -p "$port" -U postgres -d postgres -c "CREATE TABLE probe (id int); INSERT INTO probe VALUES (1)"
until [ "$("$bin/psql" -XAtq -h 127.0.0.1 -p "$replica_port" -U postgres -d postgres -c "SELECT count(*) FROM probe" 2>/dev/null)" = 1 ]; do :; done
