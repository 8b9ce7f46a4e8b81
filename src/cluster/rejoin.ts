import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PgCommandError } from '../pg/errors.js';
import { renderPassfile } from '../pg/passfile.js';
import { checkpoint, replayLsn } from '../pg/queries.js';
import { walEnd } from '../pg/wal-end.js';
import { formatLsn } from '../pg/lsn.js';
import { onInterrupt } from '../util/cleanup.js';
import { waitFor } from '../util/wait.js';
import { observeCluster } from './observe.js';
import { rewind } from '../pg/rewind.js';
import { startServer, stopServer } from '../pg/server.js';
import { controlData } from '../pg/controldata.js';
import { findFreeBlock } from '../util/ports.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed } from '../spec/topology.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, superuserConninfo, type Cluster } from './context.js';
import { DivergedError, PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { followWhileStopped } from './follow.js';
import { inspectNodeData, removeHalfBuilt } from './node-data.js';
import { readNodeState, writeNodeState } from './node-state.js';
import { proveReplication } from './prove.js';
import { ensureReplica, upstreamOf } from './replica.js';
import { reconcileSlots } from './slots.js';
import { unknownNode } from './url.js';

export interface RejoinOptions {
  /** Throw the node's data away and clone it afresh instead of rewinding it. */
  readonly reclone: boolean;
  readonly onEvent: OnEvent;
}

export interface RejoinResult {
  readonly node: string;
  readonly upstream: string;
  readonly method: 'rewind' | 'reclone' | 'none';
  readonly totalMs: number;
}

async function isHealthyReplica(cluster: Cluster, node: NodeSpec): Promise<boolean> {
  const [seen] = await observeCluster(cluster, [node]);
  return seen?.position?.inRecovery === true && seen.position.receiverStatus === 'streaming';
}

/**
 * pg_rewind judges how far a standby target's history goes by its control file (its last
 * checkpoint, or minRecoveryPoint), not by the WAL it received and never replayed: a replica
 * fenced for holding WAL past the fork, or a delayed one, could be found "not diverged" and then
 * replay that old-timeline WAL after it. And it recovers an uncleanly stopped target in single-user
 * mode, which refuses standby mode (recovered as a primary instead, a standby would append WAL on
 * its old timeline). So a standby target first replays every record in its own pg_wal, as a
 * standby: started with no upstream, no apply delay, on a port no client knows (PostgreSQL will
 * not start with no listener at all), then stopped cleanly, "shut down in recovery".
 */
async function replayOwnWal(cluster: Cluster, node: NodeSpec): Promise<void> {
  const dataDir = cluster.layout.dataDir(node.name);
  const control = await controlData(cluster.bin, cluster.user, dataDir);
  const end = await walEnd(cluster.bin, cluster.user, dataDir, control.checkpointLsn, control.timeline);
  if (end === null) return; // pg_waldump cannot tell: pg_rewind judges by the control file alone
  const instance = instanceOf(cluster, node);
  const port = await findFreeBlock(1, 20_000 + Math.floor(Math.random() * 12_000));
  const stop = (): Promise<unknown> => stopServer(instance, 'fast').catch(() => undefined);
  const forgetStop = onInterrupt(stop);
  try {
    await startServer(instance, 60_000, [['port', port], ['listen_addresses', '127.0.0.1'], ['primary_conninfo', ''], ['hot_standby', true], ['recovery_min_apply_delay', '0']]);
    await withConnection({ ...adminTarget(cluster, node), port }, (db) =>
      waitFor(async () => ((await replayLsn(db)) ?? 0n) >= end || undefined, { what: `${node.name} to replay its own WAL up to ${formatLsn(end)}`, timeoutMs: 60_000, intervalMs: 10 }),
    );
  } catch (error) {
    throw new DivergedError(`${node.name} could not replay its own WAL before pg_rewind: ${(error as Error).message.split('\n')[0]}`, {
      hint: `run \`pgrepl rejoin ${node.name} --reclone\` to clone it afresh instead (its own data is replaced)`,
      cause: error,
    });
  } finally {
    forgetStop();
    await stop();
  }
}

/** pg_rewind the stopped node onto its upstream, then make it that upstream's standby. */
async function rewindOnto(cluster: Cluster, node: NodeSpec, upstream: NodeSpec, onEvent: OnEvent): Promise<void> {
  // pg_rewind reads the source's timeline from its control file, which changes only at a checkpoint.
  await withConnection(adminTarget(cluster, upstream), checkpoint);
  onEvent({ type: 'step', node: node.name, message: `pg_rewind from ${upstream.name}` });
  // pg_rewind runs as the server user and needs a superuser connection: it gets the password in a
  // passfile of its own for the duration (the cluster's superuser passfile stays the admin's).
  const passfile = join(cluster.layout.nodeDir(node.name), '.rewind.pgpass');
  const dataDir = cluster.layout.dataDir(node.name);
  if (existsSync(join(dataDir, 'standby.signal'))) await replayOwnWal(cluster, node);
  await cluster.layout.writeFile(passfile, renderPassfile([cluster.secrets.superuser]), 0o600, 'server');
  // From here until it succeeds, a cut-off pg_rewind leaves data only a fresh clone replaces
  // (the next rejoin, or up, does that: the node counts as half-built).
  await writeNodeState(cluster.layout, node.name, { phase: 'rewinding', since: new Date().toISOString() });
  try {
    await rewind({ bin: cluster.bin, user: cluster.user, dataDir, sourceConninfo: superuserConninfo(cluster, upstream, passfile), cwd: cluster.layout.nodeDir(node.name) });
  } catch (error) {
    if (!(error instanceof PgCommandError)) throw error;
    const reason = error.message.split('\n').find((l) => /error:/.test(l)) ?? error.message.split('\n')[0];
    throw new DivergedError(`pg_rewind could not rewind ${node.name}: ${reason}`, {
      hint: `run \`pgrepl rejoin ${node.name} --reclone\` to clone it afresh instead (its own data is replaced)`,
      cause: error,
    });
  } finally {
    await rm(passfile, { force: true });
  }
  // pg_rewind copied the source's configuration files: give the node its own back.
  await writeServerFiles(cluster, node);
  await followWhileStopped(cluster, node, upstream);
}

/**
 * Turns a former primary (or any diverged or broken replica) into a streaming replica of its
 * upstream in the spec: pg_rewind by default, a fresh clone with `reclone`. It is never started
 * before that, so a diverged node never runs as a writable primary.
 */
export async function rejoin(cluster: Cluster, name: string, options: RejoinOptions): Promise<RejoinResult> {
  const started = Date.now();
  const node = nodeNamed(cluster.spec, name);
  if (!node) throw unknownNode(cluster, name);
  if (node.upstream === undefined) {
    throw new PreconditionError(`${name} is the primary; only replicas rejoin`, { hint: 'to make it a replica, `pgrepl switchover` to another node' });
  }
  const upstream = upstreamOf(cluster, node);
  const data = await inspectNodeData(cluster, node);
  if (data.kind === 'ready' && (await isHealthyReplica(cluster, node))) {
    return { node: name, upstream: upstream.name, method: 'none', totalMs: Date.now() - started };
  }
  if (await stopServer(instanceOf(cluster, node), 'fast')) options.onEvent({ type: 'step', node: name, message: 'stopped' });
  await reconcileSlots(cluster, upstream);
  let method: RejoinResult['method'];
  if (options.reclone || data.kind === 'none' || data.kind === 'lost' || data.kind === 'half-built') {
    options.onEvent({ type: 'step', node: name, message: 'removing its data to clone it afresh' });
    await removeHalfBuilt(cluster, node);
    method = 'reclone';
  } else {
    // Until the rewind has finished, its data is neither what it was nor what it will be.
    if ((await readNodeState(cluster.layout, name))?.phase !== 'diverged') await writeNodeState(cluster.layout, name, { phase: 'diverged', since: new Date().toISOString() });
    await rewindOnto(cluster, node, upstream, options.onEvent);
    await writeNodeState(cluster.layout, name, { phase: 'ready' });
    method = 'rewind';
  }
  await ensureReplica(cluster, node, { onEvent: options.onEvent });
  await proveReplication(cluster, [node]);
  return { node: name, upstream: upstream.name, method, totalMs: Date.now() - started };
}
