import { spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinaries } from '../src/pg/binaries.js';
import { resolveOsUser, type OsUser } from '../src/pg/os-user.js';
import { findFreePorts } from '../src/util/ports.js';

/**
 * `npm run bench`: pgrepl against the raw PostgreSQL tools, measured in the same run on this
 * machine, runs interleaved so load affects both alike. Reports medians and pgrepl/raw ratios.
 */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = join(root, 'dist/src/cli/main.js');
const RAW = join(root, 'bench/raw-bootstrap.sh');
const runs = Number(process.env.BENCH_RUNS ?? 5);

interface Timed {
  readonly seconds: number;
}

function run(file: string, args: readonly string[], user?: OsUser): Promise<Timed> {
  const started = process.hrtime.bigint();
  return new Promise((res, rej) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      ...(user?.switchTo ? { uid: user.uid, gid: user.gid, env: { PATH: process.env.PATH, HOME: user.home } } : {}),
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) res({ seconds });
      else rej(new Error(`${file} ${args.join(' ')} exited ${code}: ${stderr.slice(-500)}`));
    });
  });
}

async function stopRaw(work: string): Promise<void> {
  for (const dir of ['replica', 'primary']) {
    const pid = Number((await readFile(join(work, dir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0]);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGQUIT');
      } catch {
        /* gone */
      }
    }
  }
}

async function scratch(user: OsUser): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-bench-'));
  await chmod(dir, 0o755);
  if (user.switchTo) await chown(dir, user.uid, user.gid);
  return dir;
}

async function rawOnce(user: OsUser, bindir: string): Promise<number> {
  const work = await scratch(user);
  const [port] = await findFreePorts(1, 30000 + Math.floor(Math.random() * 20000));
  try {
    return (await run('bash', [RAW, work, String(port), bindir], user)).seconds;
  } finally {
    await stopRaw(work);
    await rm(work, { recursive: true, force: true });
  }
}

async function pgreplOnce(user: OsUser, replicas: number): Promise<number> {
  const parent = await scratch(user);
  const dir = join(parent, 'cluster');
  const [port] = await findFreePorts(1, 30000 + Math.floor(Math.random() * 20000));
  try {
    return (await run(process.execPath, [CLI, 'up', '--dir', dir, '--replicas', String(replicas), '--port', String(port)])).seconds;
  } finally {
    await run(process.execPath, [CLI, 'down', '--dir', dir, '--destroy']).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function bootstrap(): Promise<void> {
  const bin = await findBinaries();
  const user = await resolveOsUser();
  const samples = { raw: [] as number[], up1: [] as number[], up2: [] as number[] };
  for (let i = 0; i < runs; i++) {
    samples.raw.push(await rawOnce(user, bin.bindir));
    samples.up1.push(await pgreplOnce(user, 1));
    samples.up2.push(await pgreplOnce(user, 2));
    process.stderr.write(`run ${i + 1}/${runs}: raw ${samples.raw.at(-1)!.toFixed(3)} s, up --replicas 1 ${samples.up1.at(-1)!.toFixed(3)} s, up --replicas 2 ${samples.up2.at(-1)!.toFixed(3)} s\n`);
  }
  const raw = median(samples.raw);
  const rows = [
    ['raw tools script (1 replica)', raw],
    ['pgrepl up --replicas 1', median(samples.up1)],
    ['pgrepl up --replicas 2', median(samples.up2)],
  ] as const;
  console.log(`\nbootstrap: empty directory -> primary + streaming replica(s) replaying a probe (PostgreSQL ${bin.version}, median of ${runs})`);
  for (const [name, seconds] of rows) console.log(`  ${name.padEnd(30)} ${seconds.toFixed(3)} s   ratio ${(seconds / raw).toFixed(2)}x`);
  console.log(JSON.stringify({ scenario: 'bootstrap', runs, medians: Object.fromEntries(rows.map(([n, s]) => [n, s])), ratios: { up1: median(samples.up1) / raw, up2: median(samples.up2) / raw } }));
}

const scenarios: Record<string, () => Promise<void>> = { bootstrap };
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : Object.keys(scenarios)) {
  const scenario = scenarios[name];
  if (!scenario) throw new Error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(', ')}`);
  await scenario();
}
