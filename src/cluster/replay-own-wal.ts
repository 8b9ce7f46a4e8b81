import { controlData } from '../pg/controldata.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import { replayLsn } from '../pg/queries.js';
import { startServer, stopServer } from '../pg/server.js';
import { withConnection, type Queryable } from '../pg/sql.js';
import { branchPoint, newestTimeline } from '../pg/timeline.js';
import { walTail } from '../pg/wal-end.js';
import type { NodeSpec } from '../spec/schema.js';
import { onInterrupt } from '../util/cleanup.js';
import { findFreeBlock } from '../util/ports.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { DivergedError } from './errors.js';
import type { OnEvent } from './events.js';

/** Replay that has not moved for this long has stopped for good. */
const STALL_MS = 30_000;

export function recloneHint(name: string): string {
  return `run \`pgrepl rejoin ${name} --reclone\` to clone it afresh instead (its own data is replaced)`;
}

/** Where a stopped standby's own WAL ends: the start of its last valid record, on its newest timeline. */
export interface OwnWalEnd {
  readonly timeline: number;
  readonly lastRecord: Lsn;
}

/**
 * Where a stopped standby's own WAL ends, read on the newest timeline it has (from that timeline's
 * start, if its control file has not caught up with it).
 */
async function lastOwnRecord(cluster: Cluster, node: NodeSpec): Promise<OwnWalEnd> {
  const dataDir = cluster.layout.dataDir(node.name);
  const control = await controlData(cluster.bin, cluster.user, dataDir);
  const timeline = newestTimeline(dataDir, control.timeline);
  const from = timeline === control.timeline ? control.checkpointLsn : branchPoint(dataDir, timeline, control.timeline);
  const tail = from === null ? null : await walTail(cluster.bin, cluster.user, dataDir, from, timeline);
  if (!tail) throw new DivergedError(`cannot tell where ${node.name}'s own WAL ends (pg_waldump read nothing on timeline ${timeline})`, { hint: recloneHint(node.name) });
  return { timeline, lastRecord: tail.lastRecord };
}

/**
 * pg_rewind judges how far a standby target's history goes by its control file (its last
 * checkpoint, or minRecoveryPoint), not by WAL it received and never replayed: a replica fenced
 * for holding WAL past the fork, or a delayed one, could be found "not diverged" and then replay
 * that WAL of the old timeline. And it recovers an uncleanly stopped target in single-user mode,
 * which refuses standby mode (recovered as a primary instead, a standby would append WAL on its old
 * timeline). So a standby target first replays every record of its own pg_wal, as a standby:
 * started with no upstream, no apply delay, on a port no client knows (PostgreSQL will not start
 * with no listener at all), then stopped cleanly, "shut down in recovery". Returns where its WAL
 * ends.
 */
export async function replayOwnWal(cluster: Cluster, node: NodeSpec, onEvent: OnEvent): Promise<OwnWalEnd> {
  const own = await lastOwnRecord(cluster, node);
  const last = own.lastRecord;
  onEvent({ type: 'step', node: node.name, message: `replaying its own WAL, as a standby with no upstream, up to ${formatLsn(last)}` });
  const instance = instanceOf(cluster, node);
  const port = await findFreeBlock(1, 20_000 + Math.floor(Math.random() * 12_000));
  const forgetStop = onInterrupt(() => stopServer(instance, 'fast').catch(() => undefined));
  try {
    await startServer(instance, 60_000, [['port', port], ['primary_conninfo', ''], ['hot_standby', true], ['recovery_min_apply_delay', '0']]);
    await withConnection({ ...adminTarget(cluster, node), port }, (db) => replayedPast(db, node.name, last));
  } catch (error) {
    await stopServer(instance, 'fast').catch(() => undefined);
    throw new DivergedError(`${node.name} could not replay its own WAL before pg_rewind: ${(error as Error).message.split('\n')[0]}`, { hint: recloneHint(node.name), cause: error });
  } finally {
    forgetStop();
  }
  await stopServer(instance, 'fast');
  return own;
}

/** Waits until replay has passed `last`; fails once it has not moved for STALL_MS. */
async function replayedPast(db: Queryable, name: string, last: Lsn): Promise<void> {
  let seen: Lsn | null = null;
  let movedAt = Date.now();
  for (;;) {
    const replayed = await replayLsn(db);
    if (replayed !== null && replayed > last) return;
    if (replayed !== seen) [seen, movedAt] = [replayed, Date.now()];
    if (Date.now() - movedAt > STALL_MS) {
      throw new DivergedError(`${name}'s replay stopped at ${seen === null ? 'its start' : formatLsn(seen)}, short of its WAL's last record at ${formatLsn(last)}`, { hint: recloneHint(name) });
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
