import { controlData } from '../pg/controldata.js';
import { formatLsn, parseLsnOrNull, type Lsn } from '../pg/lsn.js';
import { checkpoint } from '../pg/queries.js';
import { startServer, stopServer } from '../pg/server.js';
import { waitFor } from '../util/wait.js';
import { instanceOf } from '../cluster/context.js';
import type { ActContext } from './act.js';
import type { NodeSpec } from '../spec/schema.js';
import { peerStatus } from './look.js';
import type { MemberState } from './member.js';
import { readRequest, updateRequest } from './request.js';

/** How long the candidate may take to receive the old primary's shutdown checkpoint. */
const CATCH_UP_MS = 10_000;

/** How long a peer has to answer during a handover. */
const PEER_TIMEOUT_MS = 500;

/** How long the chosen candidate may take to prepare; past it the handover goes on (it prepares while promoting). */
const PREPARE_MS = 2000;

/** The replicas that could take over: running, streaming from this node, eligible; most WAL first. */
async function candidates(ctx: ActContext): Promise<MemberState[]> {
  const others = ctx.cluster.spec.nodes.filter((n) => n.name !== ctx.node.name);
  const states = await Promise.all(others.map((n) => peerStatus(n, PEER_TIMEOUT_MS)));
  const lsn = (m: MemberState): Lsn => parseLsnOrNull(m.lsn) ?? (0n as Lsn);
  return states
    .filter((m): m is MemberState => m !== null && m.role === 'replica' && m.streaming && m.upstream === ctx.node.name && m.eligible)
    .sort((a, b) => (lsn(a) === lsn(b) ? (a.name < b.name ? -1 : 1) : lsn(a) > lsn(b) ? -1 : 1));
}

/**
 * The leader's half of a switchover. It picks the candidate (the one asked for, or the most
 * advanced streaming replica) and lets it prepare its replicas' slots (see decide.ts, handoverFrom)
 * while it checkpoints, then stops its own server cleanly, which ships every record up to the
 * shutdown checkpoint to the standbys, and waits until the candidate has received past that
 * checkpoint. Only then does it name the candidate in the request and give up the lease, so only
 * the candidate takes it, holding every write; if the candidate does not catch up, the server is
 * started again as the primary and the request is marked refused. The lease is renewed throughout.
 */
export async function handOver(ctx: ActContext, to: string | null): Promise<void> {
  const choice = (await candidates(ctx)).find((m) => to === null || m.name === to);
  if (!choice) {
    const why = to === null ? 'no eligible replica streams from the leader' : `${to} is not an eligible replica streaming from ${ctx.node.name}`;
    await updateRequest(ctx.dcs, { refused: why });
    return;
  }
  const renewing = setInterval(() => void ctx.lease.renew().catch(() => undefined), ctx.loopWaitMs);
  try {
    await updateRequest(ctx.dcs, { chosen: choice.name });
    await ctx.own.use(checkpoint, 30_000); // so the shutdown checkpoint is quick
    await prepared(ctx);
    const instance = instanceOf(ctx.cluster, ctx.node);
    ctx.stopping();
    await ctx.own.reset();
    await updateRequest(ctx.dcs, { stoppedAt: Date.now() });
    await stopServer(instance, 'fast');
    const shutdown = (await controlData(ctx.cluster.bin, ctx.cluster.user, instance.dataDir)).checkpointLsn;
    if (!(await received(ctx.cluster.spec.nodes.find((n) => n.name === choice.name)!, shutdown))) {
      await startServer(instance);
      await updateRequest(ctx.dcs, { refused: `${choice.name} did not receive the shutdown checkpoint ${formatLsn(shutdown)} within ${CATCH_UP_MS / 1000} s; ${ctx.node.name} is the primary again` });
      return;
    }
    ctx.handedOver(choice.name);
    await updateRequest(ctx.dcs, { candidate: choice.name });
  } finally {
    clearInterval(renewing);
  }
  await ctx.lease.release();
}

/** Waits (a bounded time) for the chosen candidate to say it made its future replicas' slots. */
async function prepared(ctx: ActContext): Promise<void> {
  await waitFor(async () => ((await readRequest(ctx.dcs))?.request.prepared === true ? true : undefined), {
    what: 'the candidate to prepare',
    timeoutMs: PREPARE_MS,
    intervalMs: 5,
  }).catch(() => undefined);
}

/** Whether the candidate received WAL past the shutdown checkpoint record within the deadline. */
async function received(candidate: NodeSpec, checkpointLsn: Lsn): Promise<boolean> {
  try {
    await waitFor(async () => {
      const lsn = parseLsnOrNull((await peerStatus(candidate, PEER_TIMEOUT_MS))?.lsn);
      return lsn !== null && lsn > checkpointLsn ? true : undefined;
    }, { what: 'the candidate to receive the shutdown checkpoint', timeoutMs: CATCH_UP_MS, intervalMs: 2 });
    return true;
  } catch {
    return false;
  }
}
