import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PgCommandError } from '../pg/errors.js';
import { renderPassfile } from '../pg/passfile.js';
import { checkpoint } from '../pg/queries.js';
import { recloneHint, replayOwnWal, type OwnWalEnd } from './replay-own-wal.js';
import { formatLsn } from '../pg/lsn.js';
import { branchPoint } from '../pg/timeline.js';
import { nodeTimeline } from './node-timeline.js';
import { observeCluster } from './observe.js';
import { rewind } from '../pg/rewind.js';
import { stopServer } from '../pg/server.js';
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
 * pg_rewind found nothing to rewind, yet the target's WAL may run past where the upstream's
 * timeline branched off the target's (its history says where, in its local pg_wal). Started so, it
 * would replay old-timeline WAL the upstream does not have: refused, and left fenced.
 */
async function refuseUnrewoundFork(cluster: Cluster, node: NodeSpec, upstream: NodeSpec, own: OwnWalEnd): Promise<void> {
  const fork = branchPoint(cluster.layout.dataDir(upstream.name), await nodeTimeline(cluster, upstream.name), own.timeline);
  if (fork === null || own.lastRecord < fork) return;
  await writeNodeState(cluster.layout, node.name, { phase: 'diverged', since: new Date().toISOString() });
  throw new DivergedError(`${node.name} has WAL at ${formatLsn(own.lastRecord)}, past where ${upstream.name}'s timeline branched off at ${formatLsn(fork)}, yet pg_rewind found nothing to rewind`, { hint: recloneHint(node.name) });
}

/**
 * A former primary on a timeline as new as its upstream's was promoted beside it (a replica
 * promoted outside pgrepl, fenced by a forced failover): both took the next timeline number from
 * the same parent, and pg_rewind, which tells histories apart by timeline numbers and switch
 * points, could take the two for one. Only a fresh clone is safe.
 */
async function refuseTimelineClash(cluster: Cluster, node: NodeSpec, upstream: NodeSpec): Promise<void> {
  const [mine, theirs] = await Promise.all([nodeTimeline(cluster, node.name), nodeTimeline(cluster, upstream.name)]);
  if (mine < theirs) return;
  throw new DivergedError(`${node.name} ran as a primary on timeline ${mine}, as new as ${upstream.name}'s ${theirs}: pg_rewind cannot tell their histories apart`, { hint: recloneHint(node.name) });
}

/** A node fenced for running as a primary outside pgrepl comes back only as a fresh clone. */
async function refuseIfRecloneOnly(cluster: Cluster, name: string): Promise<void> {
  const state = await readNodeState(cluster.layout, name);
  if (state?.phase !== 'diverged' || !state.recloneOnly) return;
  throw new DivergedError(`${name} was fenced for running as a primary outside pgrepl: pg_rewind cannot be trusted to tell its history from the cluster's`, { hint: recloneHint(name) });
}

/** pg_rewind the stopped node onto its upstream, then make it that upstream's standby. */
async function rewindOnto(cluster: Cluster, node: NodeSpec, upstream: NodeSpec, onEvent: OnEvent): Promise<void> {
  const standby = existsSync(join(cluster.layout.dataDir(node.name), 'standby.signal'));
  if (!standby) await refuseTimelineClash(cluster, node, upstream);
  // pg_rewind reads the source's timeline from its control file, which changes only at a checkpoint.
  await withConnection(adminTarget(cluster, upstream), checkpoint);
  onEvent({ type: 'step', node: node.name, message: `pg_rewind from ${upstream.name}` });
  // pg_rewind runs as the server user and needs a superuser connection: it gets the password in a
  // passfile of its own for the duration (the cluster's superuser passfile stays the admin's).
  const passfile = join(cluster.layout.nodeDir(node.name), '.rewind.pgpass');
  const dataDir = cluster.layout.dataDir(node.name);
  const own = standby ? await replayOwnWal(cluster, node, onEvent) : null;
  await cluster.layout.writeFile(passfile, renderPassfile([cluster.secrets.superuser]), 0o600, 'server');
  // From here until it succeeds, a cut-off pg_rewind leaves data only a fresh clone replaces
  // (the next rejoin, or up, does that: the node counts as half-built).
  await writeNodeState(cluster.layout, node.name, { phase: 'rewinding', since: new Date().toISOString() });
  let output: string;
  try {
    output = await rewind({ bin: cluster.bin, user: cluster.user, dataDir, sourceConninfo: superuserConninfo(cluster, upstream, passfile), cwd: cluster.layout.nodeDir(node.name) });
  } catch (error) {
    if (!(error instanceof PgCommandError)) throw error;
    // Failed before copying anything: its data is as it was, fenced, not half-rewound.
    if (!/need to copy|copied/.test(error.message)) await writeNodeState(cluster.layout, node.name, { phase: 'diverged', since: new Date().toISOString() });
    const reason = error.message.split('\n').find((l) => /error:/.test(l)) ?? error.message.split('\n')[0];
    throw new DivergedError(`pg_rewind could not rewind ${node.name}: ${reason}`, { hint: recloneHint(node.name), cause: error });
  } finally {
    await rm(passfile, { force: true });
  }
  if (own && /no rewind required/.test(output)) await refuseUnrewoundFork(cluster, node, upstream, own);
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
    await refuseIfRecloneOnly(cluster, name);
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
