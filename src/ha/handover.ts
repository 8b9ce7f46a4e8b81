import { controlData } from '../pg/controldata.js';
import { formatLsn, parseLsnOrNull, type Lsn } from '../pg/lsn.js';
import { checkpoint, serverPosition } from '../pg/queries.js';
import { withConnection, type Queryable } from '../pg/sql.js';
import { startServer, stopServer } from '../pg/server.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, instanceOf } from '../cluster/context.js';
import type { ActContext } from './act-context.js';
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
  const candidate = ctx.cluster.spec.nodes.find((n) => n.name === choice.name)!;
  try {
    await updateRequest(ctx.dcs, { chosen: choice.name });
    // One connection to the candidate, opened while writes still flow: the wait for its receipt
    // of the shutdown checkpoint is then a query every 2 ms, with no handshake in the pause.
    const caughtUp = await withConnection(adminTarget(ctx.cluster, candidate), (db) => stopAndWait(ctx, db));
    if (!caughtUp.ok) {
      await startServer(instanceOf(ctx.cluster, ctx.node));
      await updateRequest(ctx.dcs, { refused: `${choice.name} did not receive the shutdown checkpoint ${caughtUp.lsn} within ${CATCH_UP_MS / 1000} s; ${ctx.node.name} is the primary again` });
      return;
    }
    ctx.trace('handover: candidate received the shutdown checkpoint');
    ctx.handedOver(choice.name);
    await updateRequest(ctx.dcs, { candidate: choice.name });
  } finally {
    clearInterval(renewing);
  }
  await ctx.lease.release();
}

/**
 * Checkpoints (so the shutdown checkpoint is quick), lets the candidate prepare, stops this
 * server cleanly, and waits until the candidate (`db`) has received past its shutdown checkpoint,
 * whose position the control file gives (read while the candidate is already being polled).
 */
async function stopAndWait(ctx: ActContext, db: Queryable): Promise<{ ok: boolean; lsn: string }> {
  await ctx.own.use(checkpoint, 30_000);
  ctx.trace('handover: checkpoint done');
  await prepared(ctx);
  ctx.trace('handover: candidate prepared');
  const instance = instanceOf(ctx.cluster, ctx.node);
  ctx.stopping();
  await ctx.own.reset();
  await updateRequest(ctx.dcs, { stoppedAt: Date.now() });
  await stopServer(instance, 'fast');
  ctx.trace('handover: stopped');
  let checkpointLsn: Lsn | null = null;
  let unreadable: Error | null = null;
  void controlData(ctx.cluster.bin, ctx.cluster.user, instance.dataDir).then(
    (c) => (checkpointLsn = c.checkpointLsn),
    (error: Error) => (unreadable = error),
  );
  try {
    await waitFor(async () => {
      const lsn = (await serverPosition(db)).lsn;
      if (unreadable) throw unreadable;
      return checkpointLsn !== null && lsn !== null && lsn > checkpointLsn ? true : undefined;
    }, { what: 'the candidate to receive the shutdown checkpoint', timeoutMs: CATCH_UP_MS, intervalMs: 2 });
    return { ok: true, lsn: formatLsn(checkpointLsn!) };
  } catch {
    return { ok: false, lsn: checkpointLsn === null ? 'unknown' : formatLsn(checkpointLsn) };
  }
}

/** Waits (a bounded time) for the chosen candidate to say it made its future replicas' slots. */
async function prepared(ctx: ActContext): Promise<void> {
  await waitFor(async () => ((await readRequest(ctx.dcs))?.request.prepared === true ? true : undefined), {
    what: 'the candidate to prepare',
    timeoutMs: PREPARE_MS,
    intervalMs: 5,
  }).catch(() => undefined);
}
