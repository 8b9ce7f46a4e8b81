/**
 * Runs the scripts `pgrepl compose` generates against real local PostgreSQL servers (there is no
 * Docker engine here): the primary's init script the way the image runs it (as postgres, psql over
 * the socket, the image's environment), then the replicas' entrypoint as root, with the container
 * addresses overridden by environment variables and the image's `docker-entrypoint.sh` and `gosu`
 * replaced on PATH by stand-ins that start the server on a test port. The server options are the
 * ones in the generated docker-compose.yml.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseEnvFile } from '../../src/compose/env-file.js';
import { validateComposeOptions } from '../../src/compose/options.js';
import { writeComposeProject } from '../../src/compose/project.js';
import { findBinaries, type PgBinaries } from '../../src/pg/binaries.js';
import { resolveOsUser, type OsUser } from '../../src/pg/os-user.js';
import { isAlive, readPostmasterPid } from '../../src/pg/postmaster-pid.js';
import { runProgram } from '../../src/pg/process.js';
import { waitFor } from '../../src/util/wait.js';
import { freePortBlock, psql, waitForPsql } from './fixture.js';

type ServiceModel = { command: string[]; environment: Record<string, string> };

/** Stand-in for the image's entrypoint: start the server as postgres on the test's port, as the image would. */
const FAKE_DOCKER_ENTRYPOINT = `#!/usr/bin/env bash
set -euo pipefail
shift # "postgres"; the rest are the -c options from docker-compose.yml
opts="$(printf '%q ' "$@") -p $STUB_PORT -k $STUB_SOCKET_DIR -c listen_addresses=127.0.0.1"
if [ "$(id -u)" = 0 ]; then exec gosu postgres pg_ctl -D "$PGDATA" -l "$STUB_LOG" -w -o "$opts" start; fi
exec pg_ctl -D "$PGDATA" -l "$STUB_LOG" -w -o "$opts" start
`;

/** Stand-in for gosu: switch user, keep the environment. */
const FAKE_GOSU = `#!/bin/sh
user="$1"; shift
exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
`;

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Kills, by pid, the postmasters of the given data dirs (only servers this test started), and waits for them to go. */
async function killServers(dataDirs: readonly string[]): Promise<void> {
  for (const dir of dataDirs) {
    const pid = (await readPostmasterPid(dir))?.pid;
    if (pid === undefined || !isAlive(pid)) continue;
    try {
      process.kill(pid, 'SIGQUIT');
      await waitFor(() => (isAlive(pid) ? undefined : true), { what: `postmaster ${pid} to exit`, timeoutMs: 10_000 });
    } catch {
      /* gone already, or the directory is removed regardless */
    }
  }
}

interface Setup {
  readonly bin: PgBinaries;
  readonly postgres: OsUser;
  readonly root: string;
  readonly project: string;
  readonly secrets: Record<string, string>;
  readonly primary: ServiceModel;
  readonly replica: ServiceModel;
  readonly primaryPort: number;
  readonly replicaPort: number;
  readonly sockets: string;
  readonly primaryData: string;
  readonly replicaData: string;
  readonly stateDir: string;
}

async function setUp(t: TestContext): Promise<Setup> {
  const bin = await findBinaries();
  const postgres = await resolveOsUser();
  const root = await mkdtemp(join(tmpdir(), 'pgrepl-compose-it-'));
  await chmod(root, 0o755); // the postgres OS user must be able to enter it
  const primaryData = join(root, 'primary', 'data');
  const replicaData = join(root, 'replica', 'data');
  t.after(async () => {
    await killServers([replicaData, primaryData]);
    await rm(root, { recursive: true, force: true });
  });
  const project = join(root, 'project');
  // 127.0.0.0/8 stands in for the Compose subnet: the test's replica connects from loopback.
  const options = validateComposeOptions({ output: project, replicas: '1', sync: '1', subnet: '127.0.0.0/8' });
  await writeComposeProject(options);
  const model = parse(await readFile(join(project, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ServiceModel> };
  const sockets = join(root, 'sockets');
  for (const dir of [join(root, 'primary'), sockets]) {
    await mkdir(dir, { mode: 0o700 });
    if (postgres.switchTo) await chown(dir, postgres.uid, postgres.gid);
  }
  const primaryPort = await freePortBlock(2);
  return {
    bin, postgres, root, project, primaryData, replicaData, sockets, primaryPort, replicaPort: primaryPort + 1,
    secrets: parseEnvFile(await readFile(join(project, '.env'), 'utf8')),
    primary: model.services.primary!,
    replica: model.services.replica1!,
    stateDir: join(root, 'replica', 'pgrepl'),
  };
}

/** initdb as the image does it (scram, checksums, superuser password from a file), start, run the init script, restart. */
async function startPrimary(s: Setup): Promise<void> {
  const asPostgres = { user: s.postgres, cwd: s.root };
  const pwfile = join(s.root, 'primary', 'pwfile');
  await writeFile(pwfile, `${s.secrets.POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  if (s.postgres.switchTo) await chown(pwfile, s.postgres.uid, s.postgres.gid);
  await runProgram(s.bin.path('initdb'), ['-D', s.primaryData, '-U', 'postgres', `--pwfile=${pwfile}`, ...s.primary.environment.POSTGRES_INITDB_ARGS!.split(' '), '--no-sync'], asPostgres);
  const options = [...s.primary.command.slice(1).map(shellQuote), '-p', String(s.primaryPort), '-k', shellQuote(s.sockets), '-c', 'listen_addresses=127.0.0.1'];
  await runProgram(s.bin.path('pg_ctl'), ['-D', s.primaryData, '-l', join(s.root, 'primary', 'log'), '-w', '-o', options.join(' '), 'start'], asPostgres);
  await runProgram('bash', [join(s.project, 'primary-init.sh')], {
    ...asPostgres,
    env: {
      PATH: `${s.bin.bindir}:${process.env.PATH}`, PGDATA: s.primaryData, POSTGRES_USER: 'postgres', PGPASSWORD: s.secrets.POSTGRES_PASSWORD!,
      PGHOST: s.sockets, PGPORT: String(s.primaryPort), REPLICATION_PASSWORD_SCRAM: s.secrets.REPLICATION_PASSWORD_SCRAM!,
    },
  });
  // The image stops its temporary server after the init scripts and starts the real one: the new pg_hba.conf applies.
  // -l again: without it the restarted server would write to (and hold open) this test's pipes.
  await runProgram(s.bin.path('pg_ctl'), ['-D', s.primaryData, '-l', join(s.root, 'primary', 'log'), '-m', 'fast', '-w', 'restart'], asPostgres);
}

/** Runs the replicas' entrypoint as the container would (as root when we are), with addresses overridden. */
async function runReplicaEntrypoint(s: Setup): Promise<string> {
  const stubs = join(s.root, 'stubs');
  await mkdir(stubs, { recursive: true, mode: 0o755 });
  await writeFile(join(stubs, 'docker-entrypoint.sh'), FAKE_DOCKER_ENTRYPOINT, { mode: 0o755 });
  await writeFile(join(stubs, 'gosu'), FAKE_GOSU, { mode: 0o755 });
  const me: OsUser = { ...s.postgres, switchTo: false };
  const { stderr } = await runProgram('bash', [join(s.project, 'replica-entrypoint.sh'), ...s.replica.command], {
    user: me,
    cwd: s.root,
    env: {
      ...s.replica.environment,
      PATH: `${stubs}:${s.bin.bindir}:${process.env.PATH}`,
      PGDATA: s.replicaData,
      PGREPL_STATE_DIR: s.stateDir,
      PRIMARY_HOST: '127.0.0.1',
      PRIMARY_PORT: String(s.primaryPort),
      REPLICATION_PASSWORD: s.secrets.REPLICATION_PASSWORD!,
      PGREPL_WAIT_SECONDS: '20',
      STUB_PORT: String(s.replicaPort),
      STUB_SOCKET_DIR: s.sockets,
      STUB_LOG: join(s.sockets, 'replica.log'), // a directory the postgres user owns
    },
  });
  return stderr;
}

async function stopReplica(s: Setup): Promise<void> {
  await runProgram(s.bin.path('pg_ctl'), ['-D', s.replicaData, '-m', 'fast', '-w', 'stop'], { user: s.postgres, cwd: s.root });
}

function url(s: Setup, port: number): string {
  return `host=127.0.0.1 port=${port} user=postgres dbname=postgres passfile=${join(s.root, 'client.pgpass')}`;
}

async function assertStreamsAndReplays(s: Setup, value: string): Promise<void> {
  await waitForPsql(s.bin.bindir, url(s, s.primaryPort), "SELECT state || '/' || sync_state FROM pg_stat_replication WHERE application_name = 'replica1'", 'streaming/quorum', 'replica1 to stream');
  // synchronous_standby_names is ANY 1 (replica1): this commit returns only once replica1 has it.
  await psql(s.bin.bindir, url(s, s.primaryPort), `INSERT INTO probe VALUES ('${value}')`);
  await waitForPsql(s.bin.bindir, url(s, s.replicaPort), `SELECT count(*) FROM probe WHERE v = '${value}'`, '1', `replica1 to replay ${value}`);
}

test('generated scripts: the primary init secures the primary, the replica clones, streams, restarts and redoes a cut-short clone', { timeout: 120_000 }, async (t) => {
  const s = await setUp(t);
  await writeFile(join(s.root, 'client.pgpass'), `*:*:*:postgres:${s.secrets.POSTGRES_PASSWORD}\n`, { mode: 0o600 });
  await startPrimary(s);
  const primary = url(s, s.primaryPort);

  // The primary: a LOGIN REPLICATION role (no superuser), a reserved slot, pg_hba.conf without trust or catch-alls.
  assert.equal(await psql(s.bin.bindir, primary, "SELECT rolcanlogin, rolreplication, rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = 'replicator'"), 't|t|f|f|f');
  assert.equal(await psql(s.bin.bindir, primary, 'SELECT slot_name, restart_lsn IS NOT NULL FROM pg_replication_slots'), 'replica1|t');
  assert.equal(await psql(s.bin.bindir, primary, "SELECT count(*) FROM pg_hba_file_rules WHERE auth_method NOT IN ('scram-sha-256', 'peer', 'reject') OR address = 'all' OR error IS NOT NULL"), '0');
  assert.equal(await psql(s.bin.bindir, primary, "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = 'replicator'"), 't');
  assert.equal(await psql(s.bin.bindir, primary, 'SHOW data_checksums'), 'on');
  await psql(s.bin.bindir, primary, 'SET synchronous_commit = local; CREATE TABLE probe (v text)');

  // First start: clone, hand over, stream, replay.
  const first = await runReplicaEntrypoint(s);
  assert.match(first, /cloning 127\.0\.0\.1:\d+ through slot replica1/);
  await assertStreamsAndReplays(s, 'first');
  const autoConf = await readFile(join(s.replicaData, 'postgresql.auto.conf'), 'utf8');
  assert.match(autoConf, /passfile=/);
  assert.doesNotMatch(autoConf, /password=/, 'the password reached postgresql.auto.conf');
  assert.match(autoConf, /primary_slot_name = 'replica1'/);
  const passfile = await stat(join(s.stateDir, 'replication.pgpass'));
  assert.equal(passfile.mode & 0o777, 0o600);
  for (const file of ['PG_VERSION', 'global/pg_control', 'postgresql.auto.conf', 'standby.signal']) {
    assert.equal((await stat(join(s.replicaData, file))).uid, s.postgres.uid, `${file} is not owned by the postgres user`);
  }
  assert.equal(passfile.uid, s.postgres.uid);
  assert.equal((await readFile(join(s.stateDir, 'clone-state'), 'utf8')).trim(), 'done');

  // A later start only starts: what is in PGDATA stays.
  await stopReplica(s);
  await writeFile(join(s.replicaData, 'pgrepl-test-sentinel'), '');
  const again = await runReplicaEntrypoint(s);
  assert.match(again, /already cloned; starting/);
  await stat(join(s.replicaData, 'pgrepl-test-sentinel'));
  await assertStreamsAndReplays(s, 'restart');

  // A clone that was cut short (marker says cloning, junk in PGDATA) is removed and redone.
  await stopReplica(s);
  await writeFile(join(s.stateDir, 'clone-state'), 'cloning\n');
  await writeFile(join(s.replicaData, 'junk-from-a-killed-clone'), 'x');
  const redo = await runReplicaEntrypoint(s);
  assert.match(redo, /cut short; removing it and cloning again/);
  await assert.rejects(stat(join(s.replicaData, 'junk-from-a-killed-clone')));
  await assertStreamsAndReplays(s, 'redone');
  assert.equal(await psql(s.bin.bindir, url(s, s.replicaPort), 'SELECT string_agg(v, \',\' ORDER BY v) FROM probe'), 'first,redone,restart');

  // A database the script did not clone (no marker) is never wiped.
  await stopReplica(s);
  await rm(join(s.stateDir, 'clone-state'));
  await assert.rejects(runReplicaEntrypoint(s), /refusing to touch it/);
  await stat(join(s.replicaData, 'PG_VERSION'));
});
