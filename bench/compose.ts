import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { dockerCompose, dockerComposeOk, findEngine, type Engine } from '../test/compose/engine.js';
import { Writer } from '../test/integration/writer.js';
import { expect, probeQuery, until, when } from './compose-probe.js';
import { leftBehind, onSignalTearDown, withScratch, type Scratch } from './compose-projects.js';
import { freePort, median, report, RUNS, ROOT } from './util.js';

const RUNS_HERE = Math.min(RUNS, Number(process.env.BENCH_COMPOSE_RUNS ?? 3));
/** Deadline of each wait (a container's first initialisation took over a minute at load average 25-30). */
const WAIT_MS = Number(process.env.BENCH_COMPOSE_TIMEOUT_S ?? 300) * 1000;
const CLI_MS = 300_000;

const progress = (line: string): void => void process.stderr.write(`# compose: ${line}\n`);
const seconds = (t0: number): number => (Date.now() - t0) / 1000;

/** `docker compose ps` and the last log lines: what a timed-out wait shows about the project. */
function engineView(engine: Engine, dir: string): () => Promise<string> {
  return async () => {
    const ps = (await dockerCompose(engine, dir, ['ps', '-a'], 30_000)).out.trim();
    const logs = (await dockerCompose(engine, dir, ['logs', '--no-color', '--tail', '8'], 30_000)).out.trim();
    return `${ps}\n${logs}`.split('\n').map((l) => `  | ${l}`).join('\n');
  };
}

function cli(engine: Engine, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'dist/pgrepl.cjs'), ...args], { env: engine.env, timeout: CLI_MS }, (error, stdout, stderr) =>
      (error ? reject(new Error(`pgrepl ${args.join(' ')} failed${error.killed ? ` (killed after ${CLI_MS / 1000} s)` : ''}: ${stderr.trim()}`)) : resolve(stdout)));
  });
}

/** The floor: the image alone, one service, its own initialisation, until it takes a write. */
async function floorOnce(engine: Engine): Promise<number> {
  return withScratch(engine, 'floor', async ({ dir }) => {
    const port = await freePort(1);
    await mkdir(dir);
    await writeFile(join(dir, 'pw'), 'bench-floor-password');
    await writeFile(join(dir, 'docker-compose.yml'), [
      'services:', '  db:', `    image: ${engine.image}`, '    environment: {POSTGRES_PASSWORD_FILE: /run/secrets/pw}', '    secrets: [pw]',
      `    ports: ["127.0.0.1:${port}:5432"]`, 'secrets:', '  pw: {file: ./pw}', '',
    ].join('\n'));
    const t0 = Date.now();
    await dockerComposeOk(engine, dir, ['up', '-d'], WAIT_MS);
    await until(async () => expect(await probeQuery(port, 'bench-floor-password', ['CREATE TABLE IF NOT EXISTS t (v int)', 'INSERT INTO t VALUES (1)', 'SELECT 1']), '1'),
      'the plain image to take a write', WAIT_MS, engineView(engine, dir));
    return seconds(t0);
  });
}

interface Once {
  readonly up: number;
  readonly failover: number;
  readonly failoverCommand: number;
  readonly lost: number;
  /** The raw steps by hand, on the same project afterwards (see rawFailover). */
  readonly rawFailover: number;
}

/** `up -d` on empty volumes until a row written on pg1 is visible on pg2 and pg3. */
async function upToReplayed(engine: Engine, { dir }: Scratch, ports: readonly number[], password: string): Promise<number> {
  const view = engineView(engine, dir);
  const t0 = Date.now();
  await dockerComposeOk(engine, dir, ['up', '-d'], WAIT_MS);
  await until(async () => expect(await probeQuery(ports[0]!, password, ['CREATE TABLE IF NOT EXISTS probe (v text)', "INSERT INTO probe VALUES ('x')", 'SELECT 1']), '1'),
    'pg1 to take a write (it waits for one standby: --sync 1)', WAIT_MS, view);
  for (const p of ports.slice(1)) {
    await until(async () => expect(await probeQuery(p, password, ["SELECT v FROM probe WHERE v = 'x'"]), 'x'), `the standby on port ${p} to show the row`, WAIT_MS, view);
  }
  return seconds(t0);
}

type FailoverRun = Omit<Once, 'up' | 'rawFailover'> & { readonly newPrimary: number };

/** `pgrepl compose failover` under a writer: the command's time, its time to the first write, writes lost. */
async function failoverUnderWriter(engine: Engine, { dir }: Scratch, ports: readonly number[], password: string): Promise<FailoverRun> {
  const view = engineView(engine, dir);
  await until(async () => expect(await probeQuery(ports[0]!, password, ['CREATE TABLE IF NOT EXISTS writes (id int PRIMARY KEY)', 'SELECT 1']), '1'), 'the table writes', WAIT_MS, view);
  const writer = new Writer(ports, password, 'writes', WAIT_MS);
  writer.start();
  try {
    await until(when(() => (writer.acked.length > 100 ? true : undefined), () => `${writer.acked.length} writes acknowledged; ${writer.phase}`), 'the writer to commit 100 writes', WAIT_MS, view);
    const t1 = Date.now();
    await cli(engine, ['compose', 'failover', '-C', dir]);
    const failoverCommand = seconds(t1);
    const first = await until(when(() => writer.firstAckAfter(t1, ports[0]!), () => `writer: ${writer.phase}; ${writer.answers.join(', ')}`),
      'a write on the new primary', WAIT_MS, view);
    await until(when(() => (writer.ackedAt.at(-1)!.at > first + 500 ? true : undefined), () => writer.phase), 'writes for 0.5 s more', WAIT_MS, view);
    await writer.stop();
    const newPrimary = writer.ackedAt.at(-1)!.port;
    const present = await until(async () => probeQuery(newPrimary, password, [`SELECT count(*) FROM writes WHERE id = ANY('{${writer.acked.join(',')}}'::int[])`]),
      'the count of acknowledged writes on the new primary', WAIT_MS, view);
    return { failover: (first - t1) / 1000, failoverCommand, lost: writer.acked.length - Number(present), newPrimary };
  } finally {
    await writer.stop();
  }
}

/**
 * The failover's floor: the raw steps a fenced failover cannot skip, by hand with the raw tools on
 * the same project once pgrepl's failover is measured: `docker compose stop` of the primary,
 * `pg_promote()` on the standby that streams from it, one write there (`synchronous_commit =
 * local`: no standby is left to acknowledge it). No choice of candidate, no slots, no repointing.
 */
async function rawFailover(engine: Engine, { dir }: Scratch, ports: readonly number[], password: string, primaryPort: number): Promise<number> {
  const view = engineView(engine, dir);
  const standbyPort = ports.find((p) => p !== primaryPort && p !== ports[0])!;
  await until(async () => expect(await probeQuery(standbyPort, password, ['SELECT status FROM pg_stat_wal_receiver']), 'streaming'),
    `the standby on port ${standbyPort} to stream`, WAIT_MS, view);
  const t0 = Date.now();
  await dockerComposeOk(engine, dir, ['stop', '-t', '60', `pg${primaryPort - ports[0]! + 1}`], WAIT_MS);
  await until(async () => expect(await probeQuery(standbyPort, password, ['SELECT pg_promote(true, 60)']), 'true'), 'pg_promote()', WAIT_MS, view);
  await until(async () => expect(await probeQuery(standbyPort, password, ['SET synchronous_commit = local', 'INSERT INTO writes VALUES (-1)', 'SELECT 1']), '1'),
    'a write on the promoted standby', WAIT_MS, view);
  return seconds(t0);
}

async function pgreplOnce(engine: Engine): Promise<Once> {
  return withScratch(engine, 'pgrepl', async (scratch) => {
    const port = await freePort(3);
    await cli(engine, ['compose', '-o', scratch.dir, '--port', String(port), '--replicas', '2', '--sync', '1', '--pg-version', engine.image.split(':')[1]!]);
    const password = (await readFile(join(scratch.dir, 'secrets', 'postgres_password'), 'utf8')).trim();
    const ports = [port, port + 1, port + 2];
    const up = await upToReplayed(engine, scratch, ports, password);
    progress(`  pgrepl compose: up -d -> row on every standby ${up.toFixed(2)} s`);
    const { newPrimary, ...failover } = await failoverUnderWriter(engine, scratch, ports, password);
    return { up, ...failover, rawFailover: await rawFailover(engine, scratch, ports, password, newPrimary) };
  });
}

/** The 1-minute load average every 5 s while the scenario runs: the machine it was measured on. */
function sampleLoad(): { stop: () => string } {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), 5_000);
  return {
    stop: () => {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
      return `min ${Math.min(...samples).toFixed(2)}, median ${median(samples).toFixed(2)}, max ${Math.max(...samples).toFixed(2)} (${samples.length} samples)`;
    },
  };
}

/** `npm run bench compose`: where an engine exists; interleaved with the plain image's own start. */
export async function composeScenario(): Promise<Record<string, number>> {
  const engine = await findEngine();
  if (typeof engine === 'string') {
    console.log(`\ncompose: skipped: ${engine}`);
    return {};
  }
  const stopHandlers = onSignalTearDown();
  const load = sampleLoad();
  const floors: number[] = [];
  const runs: Once[] = [];
  try {
    for (let i = 0; i < RUNS_HERE; i++) {
      progress(`run ${i + 1}/${RUNS_HERE} (load average ${loadavg()[0]!.toFixed(2)})`);
      floors.push(await floorOnce(engine));
      progress(`  plain image: up -d -> first write ${floors.at(-1)!.toFixed(2)} s`);
      runs.push(await pgreplOnce(engine));
      progress(`  failover: first write ${runs.at(-1)!.failover.toFixed(2)} s, command ${runs.at(-1)!.failoverCommand.toFixed(2)} s; by hand ${runs.at(-1)!.rawFailover.toFixed(2)} s`);
    }
  } finally {
    stopHandlers();
    if (leftBehind.length) progress(`projects left on the engine: ${leftBehind.join(', ')}`);
  }
  const loadLine = load.stop();
  const floor = median(floors);
  const m = (pick: (o: Once) => number): number => median(runs.map(pick));
  const lost = runs.reduce((sum, o) => sum + o.lost, 0);
  const raw = m((o) => o.rawFailover);
  report(`compose (${engine.image}, ${RUNS_HERE} runs; floor: the plain image, one service, up -d to its first write)`, [
    ['plain image: up -d -> first write', floor],
    ['pgrepl compose (pg1 + 2, --sync 1): up -d -> row on every standby', m((o) => o.up)],
  ], floor);
  report('compose failover (floor: by hand, docker compose stop + pg_promote() + one write with synchronous_commit=local)', [
    ['by hand: stop -> promote -> first write', raw],
    ['pgrepl compose failover under a writer: command start -> first write', m((o) => o.failover)],
    ['pgrepl compose failover: whole command', m((o) => o.failoverCommand)],
  ], raw);
  const each = (xs: readonly number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(`  each run: floor ${each(floors)} s; up ${each(runs.map((o) => o.up))} s; failover to first write ${each(runs.map((o) => o.failover))} s; `
    + `by hand ${each(runs.map((o) => o.rawFailover))} s`);
  console.log(`  acknowledged writes lost: ${lost}`);
  console.log(`  load average (1 min) during the run: ${loadLine}`);
  return {
    composeFloorS: floor, composeUpS: m((o) => o.up), composeRawFailoverS: raw, composeFailoverToWriteS: m((o) => o.failover),
    composeFailoverCommandS: m((o) => o.failoverCommand), composeLost: lost,
  };
}
