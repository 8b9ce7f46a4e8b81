import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { dockerCompose, dockerComposeOk, findEngine, type Engine } from '../test/compose/engine.js';
import { Writer } from '../test/integration/writer.js';
import { freePort, median, report, RUNS, ROOT } from './util.js';

const RUNS_HERE = Math.min(RUNS, Number(process.env.BENCH_COMPOSE_RUNS ?? 3));

/** Statements separated by '; ', run one by one; the first column of the last one's first row. */
async function tryQuery(port: number, password: string, sql: string): Promise<string | undefined> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let last = '';
    for (const statement of sql.split('; ')) {
      const { rows } = await client.query(statement);
      last = rows.length ? String(Object.values(rows[0] as Record<string, unknown>)[0]) : '';
    }
    return last;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 300_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cli(engine: Engine, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(ROOT, 'dist/pgrepl.cjs'), ...args], { env: engine.env }, (error, stdout, stderr) =>
      (error ? reject(new Error(`pgrepl ${args.join(' ')}: ${stderr}`)) : resolve(stdout)));
  });
}

/** A project in a temp dir, always `down -v` and removed. */
async function withProject<T>(engine: Engine, args: readonly string[], use: (dir: string, port: number, password: string) => Promise<T>): Promise<T> {
  const parent = await mkdtemp(join(tmpdir(), 'pgrepl-bench-compose-'));
  const dir = join(parent, 'benchcompose');
  const port = await freePort(3);
  try {
    await cli(engine, ['compose', '-o', dir, '--port', String(port), ...args]);
    return await use(dir, port, (await readFile(join(dir, 'secrets', 'postgres_password'), 'utf8')).trim());
  } finally {
    await dockerCompose(engine, dir, ['down', '-v', '--timeout', '5']);
    await rm(parent, { recursive: true, force: true });
  }
}

/** The floor: the image alone, one service, its own initialisation, until it takes a write. */
async function floorOnce(engine: Engine): Promise<number> {
  const parent = await mkdtemp(join(tmpdir(), 'pgrepl-bench-floor-'));
  const port = await freePort(1);
  try {
    await writeFile(join(parent, 'pw'), 'bench-floor-password');
    await writeFile(join(parent, 'docker-compose.yml'), [
      'services:', '  db:', `    image: ${engine.image}`, '    environment: {POSTGRES_PASSWORD_FILE: /run/secrets/pw}', '    secrets: [pw]',
      `    ports: ["127.0.0.1:${port}:5432"]`, 'secrets:', '  pw: {file: ./pw}', '',
    ].join('\n'));
    const t0 = Date.now();
    await dockerComposeOk(engine, parent, ['up', '-d']);
    await until(() => tryQuery(port, 'bench-floor-password', 'CREATE TABLE IF NOT EXISTS t (v int); INSERT INTO t VALUES (1); SELECT 1'), 'the plain image to take a write');
    return (Date.now() - t0) / 1000;
  } finally {
    await dockerCompose(engine, parent, ['down', '-v', '--timeout', '5']);
    await rm(parent, { recursive: true, force: true });
  }
}

/** up -d on empty volumes until a row written on pg1 is visible on pg2 and pg3; then the failover's time to the first write. */
async function pgreplOnce(engine: Engine): Promise<{ up: number; failover: number; failoverCommand: number; lost: number }> {
  return withProject(engine, ['--replicas', '2', '--sync', '1', '--pg-version', engine.image.split(':')[1]!], async (dir, port, password) => {
    const ports = [port, port + 1, port + 2];
    const t0 = Date.now();
    await dockerComposeOk(engine, dir, ['up', '-d']);
    await until(() => tryQuery(port, password, "CREATE TABLE IF NOT EXISTS probe (v text); INSERT INTO probe VALUES ('x'); SELECT 1"), 'pg1 to take a write');
    for (const p of ports.slice(1)) await until(() => tryQuery(p, password, "SELECT v FROM probe WHERE v = 'x'").then((v) => (v === 'x' ? v : undefined)), `port ${p} to show the row`);
    const up = (Date.now() - t0) / 1000;
    await tryQuery(port, password, 'CREATE TABLE writes (id int PRIMARY KEY)');
    const writer = new Writer(ports, password, 'writes', 120_000);
    writer.start();
    await until(async () => (writer.acked.length > 100 ? true : undefined), 'the writer');
    const t1 = Date.now();
    await cli(engine, ['compose', 'failover', '-C', dir]);
    const failoverCommand = (Date.now() - t1) / 1000;
    const first = await until(async () => writer.firstAckAfter(t1, port), 'a write on the new primary');
    await until(async () => (writer.acked.length > 0 && writer.ackedAt.at(-1)!.at > first + 500 ? true : undefined), 'more writes');
    await writer.stop();
    const newPrimary = writer.ackedAt.at(-1)!.port;
    const present = await tryQuery(newPrimary, password, `SELECT count(*) FROM writes WHERE id = ANY('{${writer.acked.join(',')}}'::int[])`);
    return { up, failover: (first - t1) / 1000, failoverCommand, lost: writer.acked.length - Number(present) };
  });
}

/** `npm run bench compose`: where an engine exists; interleaved with the plain image's own start. */
export async function composeScenario(): Promise<Record<string, number>> {
  const engine = await findEngine();
  if (typeof engine === 'string') {
    console.log(`\ncompose: skipped: ${engine}`);
    return {};
  }
  const floors: number[] = [];
  const ups: number[] = [];
  const failovers: number[] = [];
  const commands: number[] = [];
  let lost = 0;
  for (let i = 0; i < RUNS_HERE; i++) {
    floors.push(await floorOnce(engine));
    const once = await pgreplOnce(engine);
    ups.push(once.up);
    failovers.push(once.failover);
    commands.push(once.failoverCommand);
    lost += once.lost;
  }
  const floor = median(floors);
  report(`compose (${engine.image}, ${RUNS_HERE} runs; floor: the plain image, one service, up -d to its first write)`, [
    ['plain image: up -d -> first write', floor],
    ['pgrepl compose (pg1 + 2, --sync 1): up -d -> row on every standby', median(ups)],
    ['failover under a writer: command start -> first write', median(failovers)],
    ['failover: whole command', median(commands)],
  ], floor);
  console.log(`  acknowledged writes lost: ${lost}`);
  return { composeFloorS: floor, composeUpS: median(ups), composeFailoverToWriteS: median(failovers), composeFailoverCommandS: median(commands), composeLost: lost };
}
