import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinaries, type PgBinaries } from '../src/pg/binaries.js';
import { resolveOsUser } from '../src/pg/os-user.js';
import { agentLines, settled, watchLease, withHaCluster, type DcsKind, type HaBench } from './ha-cluster.js';

interface Pgbench {
  readonly code: number | null;
  readonly output: string;
}

/**
 * Runs pgbench against `port` with the password in a passfile (never in argv or the environment),
 * killed by its pid if it outlives `timeoutMs` or this function fails.
 */
async function pgbench(bin: PgBinaries, c: HaBench, port: number, args: readonly string[], timeoutMs: number): Promise<Pgbench> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-soak-'));
  try {
    const passfile = join(dir, 'pgpass');
    await writeFile(passfile, `127.0.0.1:${port}:*:postgres:${c.password}\n`, { mode: 0o600 });
    const child = spawn(join(bin.bindir, 'pgbench'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args, 'postgres'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH, PGPASSFILE: passfile },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      const code = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { code, output };
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Lines that mean the agents changed something: a takeover, a fence, a restart, a lost lease. */
const ACTING = /taking over|taking it|fencing|crashed|lost the lease|following the new leader|rejoining|promot/;

/**
 * `ha-soak`: pgbench saturating both cores (8 clients, 2 threads) against the primary of an HA
 * cluster (3 nodes, ANY 1 quorum) for BENCH_SOAK_MINUTES (default 10). A healthy but busy primary
 * must keep its lease: reported are leader changes seen in the DCS (false positives; target 0),
 * the agents' reason changes and acting lines, and pgbench's TPS.
 */
export async function haSoakScenario(): Promise<Record<string, number>> {
  const minutes = Number(process.env.BENCH_SOAK_MINUTES ?? 10);
  const dcs: DcsKind = process.env.BENCH_SOAK_DCS === 'etcd' ? 'etcd' : 'local';
  const bin = await findBinaries();
  return withHaCluster(await resolveOsUser(), dcs, async (c) => {
    const leader = (await settled(c)).leader!;
    const port = c.ports[Number(leader.slice(2)) - 1]!;
    const init = await pgbench(bin, c, port, ['-i', '-q', '-s', '10'], 300_000);
    if (init.code !== 0) throw new Error(`pgbench -i failed: ${init.output.slice(-800)}`);
    await settled(c);
    const since = Date.now();
    const loadBefore = loadavg()[0]!;
    const lease = await watchLease(c, 100);
    let run: Pgbench;
    try {
      run = await pgbench(bin, c, port, ['-c', '8', '-j', '2', '-n', '-T', String(Math.round(minutes * 60)), '-P', '60'], minutes * 60_000 + 120_000);
    } finally {
      await lease.stop();
    }
    const loadAfter = loadavg()[0]!;
    const holders = lease.samples.map((s) => s.holder);
    const leaderChanges = holders.filter((h, i) => i > 0 && h !== holders[i - 1]).length;
    const lines = (await agentLines(c.dir, since)).filter((l) => l.at <= Date.now());
    const acting = lines.filter((l) => ACTING.test(l.text));
    const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(run.output)?.[1] ?? NaN);
    const end = await settled(c).catch(() => null);
    console.log(`\nha-soak: pgbench -c 8 -j 2 for ${minutes} min against ${leader} (${dcs} DCS, ANY 1 of 2 replicas; 1-min load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`);
    console.log(`  leader changes seen in the DCS (false positives, target 0): ${leaderChanges}; lease samples ${lease.samples.length}, without a holder ${holders.filter((h) => h === null).length}`);
    console.log(`  agent reason changes: ${lines.length}, of which acting (takeover, fence, restart, follow): ${acting.length}`);
    for (const l of lines.slice(0, 20)) console.log(`    ${new Date(l.at).toISOString()} ${l.node}: ${l.text}`);
    console.log(`  pgbench: exit ${run.code}, ${tps.toFixed(1)} tps; leader at the end: ${end?.leader ?? 'not settled'}`);
    if (run.code !== 0) console.log(run.output.slice(-1500));
    return { soakMinutes: minutes, soakLeaderChanges: leaderChanges, soakReasonChanges: lines.length, soakActing: acting.length, soakTps: tps };
  });
}
