import { findBinaries } from '../src/pg/binaries.js';
import { resolveOsUser, type OsUser } from '../src/pg/os-user.js';
import { nodePid, superuserPassword } from '../test/integration/fixture.js';
import { Writer } from '../test/integration/writer.js';
import { median, pgrepl, report, RUNS, withCluster } from './util.js';
import { promoteFloorOnce } from './promote-floor.js';
import { createTable, missing, waitForAcks, type AckCounting } from './writes.js';

/** Switchover under a writer: client-seen write gap, reported window, command time, lost writes. */
export async function switchoverScenario(): Promise<Record<string, number>> {
  const user = await resolveOsUser();
  const gaps: number[] = [];
  const windows: number[] = [];
  const totals: number[] = [];
  let lost = 0;
  await withCluster(user, ['--replicas', '2', ...(process.env.BENCH_SYNC ? ['--sync', process.env.BENCH_SYNC] : [])], async (dir, port) => {
    const password = await superuserPassword(dir);
    const ports = [port, port + 1, port + 2];
    await createTable(port, password);
    for (let i = 0; i < RUNS; i++) {
      const to = i % 2 === 0 ? 'pg2' : 'pg1';
      const writer = new Writer(ports, password, 'writes', 60_000, 1_000_000, i * 1_000_000 + 1);
      writer.start();
      await waitForAcks(writer, writer.acked.length + 200);
      const ran = await pgrepl(['switchover', '--dir', dir, '--to', to, '--json']);
      await waitForAcks(writer, writer.acked.length + 200);
      await writer.stop();
      const result = JSON.parse(ran.stdout) as { writeUnavailableMs: number };
      gaps.push(writer.maxGapMs / 1000);
      windows.push(result.writeUnavailableMs / 1000);
      totals.push(ran.seconds);
      lost += await missing(ports[Number(to.slice(2)) - 1]!, password, writer.acked);
      process.stderr.write(`switchover ${i + 1}/${RUNS}: client gap ${writer.maxGapMs} ms, window ${result.writeUnavailableMs} ms, command ${ran.seconds.toFixed(3)} s\n`);
    }
  });
  const floor = await promoteFloorOnce(user, await findBinaries());
  report(`switchover under a writer (median of ${RUNS}; floor: pg_ctl promote -w -> first write, ${floor.toFixed(3)} s)`, [
    ['client-seen write gap', median(gaps), 'target < 0.35 s'],
    ['write-unavailable window reported', median(windows)],
    ['whole pgrepl switchover command', median(totals), 'target < 1.5 s'],
  ], floor);
  console.log(`  acknowledged writes lost: ${lost}`);
  return { switchoverGap: median(gaps), switchoverTotal: median(totals), switchoverLost: lost };
}

/** A writer across the nodes' ports whose first acknowledgement after a fault is timed. */
export interface FaultWriter extends AckCounting {
  start(): void;
  stop(): Promise<void>;
  firstAckAfter(t: number, exceptPort: number): number | undefined;
}

/**
 * One CLI failover on a fresh synchronous cluster (2 replicas, ANY 1) under `writer`: SIGKILL of
 * the primary's postmaster, `pgrepl failover` run at once. Seconds from the kill to the first write
 * the new primary acknowledged, and acknowledged writes missing there.
 */
export async function cliFailoverOnce(user: OsUser, writerFor: (ports: number[], password: string) => FaultWriter): Promise<{ seconds: number; lost: number }> {
  return withCluster(user, ['--replicas', '2', '--sync', '1'], async (dir, port) => {
    const password = await superuserPassword(dir);
    await createTable(port, password);
    const writer = writerFor([port, port + 1, port + 2], password);
    writer.start();
    try {
      await waitForAcks(writer, 200);
      const pid = await nodePid(dir, 'pg1');
      const ackedBefore = writer.acked.length;
      const killed = Date.now();
      process.kill(pid, 'SIGKILL');
      const ran = await pgrepl(['failover', '--dir', dir, '--json']);
      const result = JSON.parse(ran.stdout) as { to: string };
      await waitForAcks(writer, ackedBefore + 50);
      await writer.stop();
      // The first ack after the kill from another node marks the new primary accepting writes.
      const seconds = ((writer.firstAckAfter(killed, port) ?? Date.now()) - killed) / 1000;
      return { seconds, lost: await missing(port + Number(result.to.slice(2)) - 1, password, writer.acked) };
    } finally {
      await writer.stop();
    }
  });
}

/** SIGKILL of the primary postmaster -> first write accepted on the new primary via pgrepl failover. */
export async function failoverScenario(): Promise<Record<string, number>> {
  const user = await resolveOsUser();
  const bin = await findBinaries();
  const times: number[] = [];
  const floors: number[] = [];
  let lost = 0;
  for (let i = 0; i < RUNS; i++) {
    floors.push(await promoteFloorOnce(user, bin));
    const once = await cliFailoverOnce(user, (ports, password) => new Writer(ports, password, 'writes', 60_000, 10_000_000));
    times.push(once.seconds);
    lost += once.lost;
    process.stderr.write(`failover ${i + 1}/${RUNS}: kill -> first write ${times.at(-1)!.toFixed(3)} s, floor ${floors.at(-1)!.toFixed(3)} s\n`);
  }
  const floor = median(floors);
  report(`failover, synchronous (median of ${RUNS})`, [
    ['floor: pg_ctl promote -w -> first write', floor],
    ['SIGKILL primary -> pgrepl failover -> first write', median(times), 'target <= 1.5x'],
  ], floor);
  console.log(`  acknowledged writes lost: ${lost}`);
  return { failoverSeconds: median(times), failoverRatio: median(times) / floor, failoverLost: lost };
}
