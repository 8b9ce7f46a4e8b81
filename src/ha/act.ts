import { join } from 'node:path';
import { ensurePhysicalSlot } from '../pg/queries.js';
import { serverProcessesGone } from '../pg/postmaster-pid.js';
import { startServer, stopServer } from '../pg/server.js';
import type { Connector, Queryable } from '../pg/sql.js';
import { downstreamOf, nodeNamed } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { writeServerFiles } from '../cluster/configure.js';
import { instanceOf } from '../cluster/context.js';
import { ignoreEvents } from '../cluster/events.js';
import { fence } from '../cluster/fence.js';
import { followWhileRunning, followWhileStopped, forgetUpstream } from '../cluster/follow.js';
import { promote } from '../cluster/promote.js';
import { rejoin } from '../cluster/rejoin.js';
import { reconcileSlots } from '../cluster/slots.js';
import { DcsUnavailableError } from './dcs/dcs.js';
import type { Action } from './snapshot.js';
import { clusterLedBy } from './topology.js';
import { handOver } from './handover.js';
import type { ActContext } from './act-context.js';
import { earlyAskIn } from './failsafe.js';
import { monotonic } from './lease.js';
import { readRequest, updateRequest } from './request.js';


/** The lease was not ours when we acted on it: the cycle's remaining steps are skipped. */
export class LeaseLostError extends Error {}

/** Runs one action on this node. Each touches only this node (and its own lease). */
export async function act(ctx: ActContext, action: Action): Promise<void> {
  switch (action.kind) {
    case 'acquire':
      if (!(await ctx.lease.acquire())) throw new LeaseLostError('another node took the lease first');
      return;
    case 'renew':
      return renew(ctx);
    case 'release':
      return ctx.lease.release();
    case 'promote':
      return promoteSelf(ctx, action.from);
    case 'start':
      return startSelf(ctx, action.as, action.upstream);
    case 'restart':
      return restartSelf(ctx);
    case 'follow':
      return followLeader(ctx, action.leader);
    case 'fence':
      return fenceSelf(ctx);
    case 'rejoin':
      return rejoinLeader(ctx, action.leader);
    case 'handover':
      return handOver(ctx, action.to);
    case 'prepare':
      return prepareTakeover(ctx);
    case 'failsafe':
      return ctx.failsafe.keep(ctx);
  }
}

/**
 * Renews the lease; if the DCS does not answer, asks the other agents for failsafe. Not only once
 * the renewal has timed out: one still unanswered when the watchdog is near has them asked
 * meanwhile (`earlyAskIn`), as on a loaded machine the timeout plus the asking can outlast the
 * lease's margin. Asking early is as safe as asking late: a grant only holds the granting agent
 * back from a free lease for a TTL, and one answered renewal ends the asking.
 */
async function renew(ctx: ActContext): Promise<void> {
  const askIn = earlyAskIn(ctx.lease.fencesAt, monotonic(), ctx.loopWaitMs);
  const early = askIn === null ? undefined : setTimeout(() => void ctx.failsafe.keep(ctx).catch(() => undefined), askIn);
  try {
    const kept = await ctx.lease.renew();
    clearTimeout(early);
    ctx.failsafe.stop();
    if (!kept) throw new LeaseLostError('the lease is no longer ours');
  } catch (error) {
    clearTimeout(early);
    if (!(error instanceof DcsUnavailableError)) throw error;
    await ctx.failsafe.keep(ctx);
  }
}

/**
 * Promotes this node. The intent is recorded in the DCS first, so a promotion cut short is seen
 * for what it was; the new primary's files (its synchronous quorum included) are written for the
 * cluster it now leads, and its replicas' slots are made while its reload lands, so they can attach
 * the moment they follow.
 */
async function promoteSelf(ctx: ActContext, from: string | null): Promise<void> {
  const next = clusterLedBy(ctx.cluster, ctx.node.name);
  const me = nodeNamed(next.spec, ctx.node.name)!;
  // Recorded while the files are written and loaded, and awaited before the promotion is asked
  // for: a DCS write (an etcd commit) is then off the write pause's path, not ahead of it.
  const intent = ctx.dcs.put('intent', { from, to: me.name, step: 'promoting', at: Date.now() });
  intent.catch(() => undefined);
  const reserve = next.spec.replication.walKeepSizeMb === 0;
  const prepare = async (db: Queryable): Promise<void> => {
    for (const replica of downstreamOf(next.spec, me.name)) await ensurePhysicalSlot(db, replica.name, reserve);
    await intent;
    ctx.trace('promote: intent recorded');
  };
  const via: Connector = (_target, work) => ctx.own.use(work, 30_000);
  await promote(next, me, { via, whileReloading: prepare, onStep: ctx.trace });
  ctx.trace('promote: accepts writes');
  await ctx.dcs.put('intent', { from, to: me.name, step: 'promoted', at: Date.now() });
  const asked = await readRequest(ctx.dcs).catch(() => null);
  if (asked?.request.candidate === me.name) await updateRequest(ctx.dcs, { promotedAt: Date.now() });
  await forgetUpstream(next, me);
  await reconcileSlots(next, me);
}

/**
 * The switchover candidate, still a standby, makes the slots its replicas will use once it leads.
 * Unreserved: a switchover refused after this leaves them holding no WAL back on a standby.
 */
async function prepareTakeover(ctx: ActContext): Promise<void> {
  const next = clusterLedBy(ctx.cluster, ctx.node.name);
  await ctx.own.use(async (db) => {
    for (const replica of downstreamOf(next.spec, ctx.node.name)) await ensurePhysicalSlot(db, replica.name, false);
  }, 5000);
  await updateRequest(ctx.dcs, { prepared: true });
}

async function startSelf(ctx: ActContext, as: 'primary' | 'standby', upstream: string | null): Promise<void> {
  const led = upstream ?? (as === 'primary' ? ctx.node.name : null);
  const cluster = led === null ? ctx.cluster : clusterLedBy(ctx.cluster, led);
  const me = nodeNamed(cluster.spec, ctx.node.name)!;
  await writeServerFiles(cluster, me);
  if (as === 'standby') {
    const leader = upstream === null ? null : nodeNamed(cluster.spec, upstream)!;
    if (leader) await followWhileStopped(cluster, me, leader);
    else await cluster.layout.writeFile(join(cluster.layout.dataDir(me.name), 'standby.signal'), '', 0o600, 'server');
  }
  await startServer(instanceOf(cluster, me));
}

/** A crashed postmaster's backends outlive it briefly; crash recovery starts once they are gone. */
async function restartSelf(ctx: ActContext): Promise<void> {
  const instance = instanceOf(ctx.cluster, ctx.node);
  await ctx.own.reset();
  await waitFor(async () => ((await serverProcessesGone(instance.dataDir)) ? true : undefined), {
    what: `the processes of ${ctx.node.name}'s crashed postmaster to exit`,
    timeoutMs: 10_000,
    intervalMs: 5,
  });
  await startServer(instance);
}

async function followLeader(ctx: ActContext, leader: string): Promise<void> {
  const cluster = clusterLedBy(ctx.cluster, leader);
  const me = nodeNamed(cluster.spec, ctx.node.name)!;
  await writeServerFiles(cluster, me);
  const via: Connector = (_target, work) => ctx.own.use(work, 5000);
  await followWhileRunning(cluster, me, nodeNamed(cluster.spec, me.upstream ?? leader)!, via);
}

/** Stops this node at once and marks it diverged: only a rejoin brings it back, as a replica. */
async function fenceSelf(ctx: ActContext): Promise<void> {
  ctx.failsafe.stop();
  ctx.stopping();
  await ctx.own.reset();
  await fence(ctx.cluster, ctx.node);
  if (ctx.lease.deadline !== null) await ctx.lease.release().catch(() => undefined);
}

async function rejoinLeader(ctx: ActContext, leader: string): Promise<void> {
  ctx.stopping();
  await ctx.own.reset();
  const cluster = clusterLedBy(ctx.cluster, leader);
  await rejoin(cluster, ctx.node.name, { reclone: false, onEvent: ignoreEvents });
}

/** Stops this node cleanly (the agent's shutdown with `--stop-server`, a switchover). */
export async function stopSelf(ctx: ActContext): Promise<void> {
  ctx.stopping();
  await ctx.own.reset();
  await stopServer(instanceOf(ctx.cluster, ctx.node), 'fast');
}
