import { loadavg } from 'node:os';
import { findBinaries } from '../src/pg/binaries.js';
import { resolveOsUser } from '../src/pg/os-user.js';
import { nodePid } from '../test/integration/fixture.js';
import { nodeProcesses } from '../test/integration/ha-fixture.js';
import { agentLines, serverStarts, etcdSkip, portOf, settled, watchLease, withHaCluster, type DcsKind, type HaBench } from './ha-cluster.js';
import { cliFailoverOnce } from './lifecycle.js';
import { promoteFloorOnce } from './promote-floor.js';
import { median, pgrepl, report, RUNS } from './util.js';
import { missing, MultiHostWriter, waitForAcks } from './writes.js';

/** One fault's outcome: seconds from the fault to the first write the client got acknowledged. */
interface Outcome {
  readonly seconds: number;
  readonly lost: number;
}

/** Where a node crash's time went (seconds from the kill), read from the lease and the agents' logs. */
interface Breakdown {
  /** The lease, as the DCS states it, would expire (local: exact; etcd: whole seconds). */
  readonly expires: number | null;
  /** A DCS reader first saw the old holder gone. */
  readonly freed: number | null;
  /** A DCS reader first saw the new holder. */
  readonly taken: number | null;
  /** The new leader's agent logged its takeover (after promoting, recording it in the spec). */
  readonly logged: number | null;
  readonly firstWrite: number;
}

const since = (t: number | null, killed: number): number | null => (t === null ? null : (t - killed) / 1000);

/** Starts a writer on the multi-host URI and waits until it has written. */
async function writing(c: HaBench, firstId: number): Promise<MultiHostWriter> {
  const writer = new MultiHostWriter(c.ports, c.password, firstId);
  writer.start();
  if (!(await waitForAcks(writer, 200))) {
    await writer.stop();
    throw new Error('the writer got no write acknowledged before the fault');
  }
  return writer;
}

/** Runs `fault` under a writer; waits for 50 more writes, then for the cluster to settle. */
async function underWriter(c: HaBench, firstId: number, fault: (leader: string) => Promise<void>): Promise<{ killed: number; first: number; leader: string; newLeader: string; lost: number }> {
  const leader = (await settled(c)).leader!;
  const writer = await writing(c, firstId);
  let killed = 0;
  try {
    const before = writer.acked.length;
    killed = Date.now();
    await fault(leader);
    if (!(await waitForAcks(writer, before + 50, 30_000))) throw new Error(`no write acknowledged within 30 s of the fault on ${leader}`);
  } finally {
    await writer.stop();
  }
  const first = writer.firstAckAfter(killed)!;
  const newPort = writer.ackedAt.find((a) => a.sessionAt >= killed)!.port;
  const newLeader = `pg${c.ports.indexOf(newPort) + 1}`;
  if (process.env.BENCH_VERBOSE) {
    process.stderr.write(`  fault on ${leader}; first write +${((first - killed) / 1000).toFixed(3)} s on ${newLeader}; the agents said:\n`);
    for (const l of await agentLines(c.dir, killed)) process.stderr.write(`    +${((l.at - killed) / 1000).toFixed(3)} s ${l.node}: ${l.text}\n`);
  }
  return { killed, first, leader, newLeader, lost: await missing(newPort, c.password, writer.acked) };
}

/** Where a postmaster crash's time went (seconds from the kill), from the node's PostgreSQL log. */
interface RestartBreakdown {
  /** The agent started a new postmaster (after noticing, and the old backends exiting). */
  readonly started: number | null;
  /** Crash recovery done: it accepts connections (the first commit then waits for a standby). */
  readonly ready: number | null;
}

async function postmasterCrash(c: HaBench, firstId: number): Promise<Outcome & { restart: RestartBreakdown }> {
  const r = await underWriter(c, firstId, async (leader) => void process.kill(await nodePid(c.dir, leader), 'SIGKILL'));
  if (r.newLeader !== r.leader) process.stderr.write(`  note: after the postmaster crash ${r.newLeader} leads, not ${r.leader} (handed over instead of restarted)\n`);
  const log = await serverStarts(c.dir, r.leader, r.killed);
  await settled(c);
  return { seconds: (r.first - r.killed) / 1000, lost: r.lost, restart: { started: since(log.started, r.killed), ready: since(log.ready, r.killed) } };
}

async function nodeCrash(c: HaBench, firstId: number): Promise<Outcome & { breakdown: Breakdown }> {
  const lease = await watchLease(c);
  let r: Awaited<ReturnType<typeof underWriter>>;
  try {
    r = await underWriter(c, firstId, async (leader) => {
      for (const pid of await nodeProcesses(c.dir, leader)) process.kill(pid, 'SIGKILL');
    });
  } finally {
    await lease.stop();
  }
  const after = lease.samples.filter((s) => s.at >= r.killed);
  const stillOld = after.find((s) => s.holder === r.leader);
  const lines = await agentLines(c.dir, r.killed);
  const breakdown: Breakdown = {
    expires: stillOld?.expiresInMs !== undefined ? since(stillOld.at + stillOld.expiresInMs, r.killed) : null,
    freed: since(after.find((s) => s.holder !== r.leader)?.at ?? null, r.killed),
    taken: since(after.find((s) => s.holder !== null && s.holder !== r.leader)?.at ?? null, r.killed),
    logged: since(lines.find((l) => l.node === r.newLeader && l.text.includes('taking over'))?.at ?? null, r.killed),
    firstWrite: (r.first - r.killed) / 1000,
  };
  // The crashed node comes back with `up`: its agent rewinds it into a replica of the new leader.
  await pgrepl(['up', '--dir', c.dir]);
  await settled(c);
  return { seconds: breakdown.firstWrite, lost: r.lost, breakdown };
}

/** `pgrepl switchover` through the agents: the client's write gap, the agents' window, the command. */
async function switchover(c: HaBench, firstId: number): Promise<{ gap: number; window: number; total: number; lost: number }> {
  const from = (await settled(c)).leader!;
  const writer = await writing(c, firstId);
  let result: { to: string; writeUnavailableMs: number | null };
  let seconds: number;
  const started = Date.now();
  try {
    const ran = await pgrepl(['switchover', '--dir', c.dir, '--json']);
    seconds = ran.seconds;
    result = JSON.parse(ran.stdout) as typeof result;
    await waitForAcks(writer, writer.acked.length + 200);
  } finally {
    await writer.stop();
  }
  await settled(c, from);
  if (process.env.BENCH_VERBOSE) {
    process.stderr.write(`  switchover from ${from}; longest write gap ${writer.maxGapMs} ms; the agents said:\n`);
    for (const l of await agentLines(c.dir, started)) process.stderr.write(`    +${((l.at - started) / 1000).toFixed(3)} s ${l.node}: ${l.text}\n`);
  }
  return { gap: writer.maxGapMs / 1000, window: (result.writeUnavailableMs ?? NaN) / 1000, total: seconds, lost: await missing(portOf(c, result.to), c.password, writer.acked) };
}

interface HaRows {
  readonly postmaster: number[];
  readonly node: number[];
  readonly breakdowns: Breakdown[];
  readonly restarts: RestartBreakdown[];
  readonly gaps: number[];
  readonly windows: number[];
  readonly totals: number[];
  lost: number;
}

async function haRuns(dcs: DcsKind): Promise<HaRows> {
  const rows: HaRows = { postmaster: [], node: [], breakdowns: [], restarts: [], gaps: [], windows: [], totals: [], lost: 0 };
  await withHaCluster(await resolveOsUser(), dcs, async (c) => {
    for (let i = 0; i < RUNS; i++) {
      const base = (i + 1) * 10_000_000;
      const pm = await postmasterCrash(c, base);
      const nc = await nodeCrash(c, base + 1_000_000);
      const so = await switchover(c, base + 2_000_000);
      rows.postmaster.push(pm.seconds);
      rows.node.push(nc.seconds);
      rows.breakdowns.push(nc.breakdown);
      rows.restarts.push(pm.restart);
      rows.gaps.push(so.gap);
      rows.windows.push(so.window);
      rows.totals.push(so.total);
      rows.lost += pm.lost + nc.lost + so.lost;
      const b = nc.breakdown;
      const fmt = (x: number | null): string => (x === null ? '?' : x.toFixed(3));
      process.stderr.write(
        `ha-failover ${dcs} ${i + 1}/${RUNS}: postmaster crash ${pm.seconds.toFixed(3)} s (restarted +${fmt(pm.restart.started)}, ready +${fmt(pm.restart.ready)}); node crash ${nc.seconds.toFixed(3)} s ` +
          `(lease expires +${fmt(b.expires)}, seen free +${fmt(b.freed)}, taken +${fmt(b.taken)}, takeover logged +${fmt(b.logged)}); ` +
          `switchover gap ${so.gap.toFixed(3)} s, window ${so.window.toFixed(3)} s, command ${so.total.toFixed(3)} s; lost ${pm.lost + nc.lost + so.lost}\n`,
      );
    }
  });
  return rows;
}

const med = (xs: ReadonlyArray<number | null>): number => median(xs.filter((x): x is number => x !== null));

function reportHa(dcs: DcsKind, rows: HaRows, floor: number): void {
  report(`  HA agents, ${dcs} DCS:`, [
    [`${dcs}: postmaster crash -> first write`, median(rows.postmaster), 'target <= 1 s'],
    [`${dcs}: node crash -> first write`, median(rows.node), 'target <= 2.5 s'],
    [`${dcs}: switchover, client-seen write gap`, median(rows.gaps)],
    [`${dcs}: switchover, window the agents report`, median(rows.windows)],
    [`${dcs}: whole pgrepl switchover command`, median(rows.totals)],
  ], floor);
  const r = rows.restarts;
  console.log(`  postmaster crash, medians from the kill: new postmaster started +${med(r.map((x) => x.started)).toFixed(3)} s, accepting connections +${med(r.map((x) => x.ready)).toFixed(3)} s, first write +${median(rows.postmaster).toFixed(3)} s`);
  const b = rows.breakdowns;
  const detect = med(b.map((x) => x.freed));
  const taken = med(b.map((x) => x.taken));
  console.log(
    `  node crash, medians from the kill: lease would expire +${med(b.map((x) => x.expires)).toFixed(3)} s, seen expired +${detect.toFixed(3)} s, ` +
      `taken by a replica +${taken.toFixed(3)} s, first write +${med(b.map((x) => x.firstWrite)).toFixed(3)} s, takeover logged +${med(b.map((x) => x.logged)).toFixed(3)} s`,
  );
}

/**
 * `ha-failover`: with `up --replicas 2 --sync 1 --ha`, from the fault to the first write a client on
 * the multi-host URI gets acknowledged, for a postmaster crash and a node crash, on the local DCS
 * and (when installed) etcd, beside the `pg_ctl promote` floor and the CLI `pgrepl failover`.
 */
export async function haFailoverScenario(): Promise<Record<string, number>> {
  const user = await resolveOsUser();
  const bin = await findBinaries();
  const loadBefore = loadavg()[0]!;
  const backends = (process.env.BENCH_HA_DCS?.split(',') ?? ['local', 'etcd']).filter((d): d is DcsKind => d === 'local' || (d === 'etcd' && etcdSkip() === null));
  if (etcdSkip() !== null) console.log(`ha-failover: no etcd row: ${etcdSkip()}`);
  const results = new Map<DcsKind, HaRows>();
  for (const dcs of backends) results.set(dcs, await haRuns(dcs));
  const floors: number[] = [];
  const cli: number[] = [];
  let lost = 0;
  for (let i = 0; i < RUNS; i++) {
    floors.push(await promoteFloorOnce(user, bin));
    const once = await cliFailoverOnce(user, (ports, password) => new MultiHostWriter(ports, password));
    cli.push(once.seconds);
    lost += once.lost;
    process.stderr.write(`ha-failover floor ${i + 1}/${RUNS}: pg_ctl promote ${floors.at(-1)!.toFixed(3)} s, CLI failover ${cli.at(-1)!.toFixed(3)} s\n`);
  }
  const floor = median(floors);
  const loadAfter = loadavg()[0]!;
  report(`ha-failover, synchronous ANY 1 of 2 replicas, writes through the multi-host URI (median of ${RUNS}; 1-min load average ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)} on ${bin.version})`, [
    ['floor: pg_ctl promote -w -> first write', floor],
    ['CLI: SIGKILL postmaster, pgrepl failover -> write', median(cli)],
  ], floor);
  const summary: Record<string, number> = { haFloorSeconds: floor, haCliFailoverSeconds: median(cli) };
  for (const [dcs, rows] of results) {
    reportHa(dcs, rows, floor);
    lost += rows.lost;
    summary[`ha_${dcs}_postmasterCrash`] = median(rows.postmaster);
    summary[`ha_${dcs}_nodeCrash`] = median(rows.node);
    summary[`ha_${dcs}_switchoverGap`] = median(rows.gaps);
  }
  console.log(`  acknowledged writes lost (all rows, synchronous): ${lost}`);
  return { ...summary, haLost: lost };
}
