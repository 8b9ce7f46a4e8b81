import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findBinaries } from '../src/pg/binaries.js';
import { resolveOsUser, type OsUser } from '../src/pg/os-user.js';
import { freePort, killServers, median, pgrepl, report, ROOT, RUNS, run, scratch } from './util.js';

const RAW = join(ROOT, 'bench/raw-bootstrap.sh');

async function rawOnce(user: OsUser, bindir: string): Promise<number> {
  const work = await scratch(user);
  try {
    return (await run('bash', [RAW, work, String(await freePort()), bindir], user)).seconds;
  } finally {
    await killServers([join(work, 'replica'), join(work, 'primary')]);
    await rm(work, { recursive: true, force: true });
  }
}

async function upOnce(user: OsUser, replicas: number): Promise<number> {
  const parent = await scratch(user);
  const dir = join(parent, 'cluster');
  try {
    return (await pgrepl(['up', '--dir', dir, '--replicas', String(replicas), '--port', String(await freePort())])).seconds;
  } finally {
    await pgrepl(['down', '--dir', dir, '--destroy']).catch(() => undefined);
    await rm(parent, { recursive: true, force: true });
  }
}

/** Empty directory -> primary + streaming replica(s) replaying a probe: raw script vs pgrepl up. */
export async function bootstrap(): Promise<Record<string, number>> {
  const bin = await findBinaries();
  const user = await resolveOsUser();
  const samples = { raw: [] as number[], up1: [] as number[], up2: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    samples.raw.push(await rawOnce(user, bin.bindir));
    samples.up1.push(await upOnce(user, 1));
    samples.up2.push(await upOnce(user, 2));
    process.stderr.write(`bootstrap ${i + 1}/${RUNS}: raw ${samples.raw.at(-1)!.toFixed(3)} s, up -r1 ${samples.up1.at(-1)!.toFixed(3)} s, up -r2 ${samples.up2.at(-1)!.toFixed(3)} s\n`);
  }
  const raw = median(samples.raw);
  report(`bootstrap: empty dir -> primary + streaming replica(s) that replayed a probe (PostgreSQL ${bin.version}, median of ${RUNS})`, [
    ['raw tools script, 1 replica (floor)', raw],
    ['pgrepl up --replicas 1', median(samples.up1), 'target <= 1.2x'],
    ['pgrepl up --replicas 2', median(samples.up2), 'target <= 1.0x'],
  ], raw);
  return { rawSeconds: raw, up1Ratio: median(samples.up1) / raw, up2Ratio: median(samples.up2) / raw };
}
