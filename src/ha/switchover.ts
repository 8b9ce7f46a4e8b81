import type { Cluster } from '../cluster/context.js';
import { PreconditionError, UnknownNodeError } from '../cluster/errors.js';
import { ClusterBusyError } from '../cluster/lock.js';
import type { OnEvent } from '../cluster/events.js';
import { waitFor } from '../util/wait.js';
import { converged, openClusterDcs } from './enable.js';
import { readRequest, REQUEST_KEY, REQUEST_TTL_MS } from './request.js';

export interface HaSwitchoverResult {
  readonly from: string;
  readonly to: string;
  /** From the old primary's shutdown to the new one's promotion, as the agents recorded it. */
  readonly writeUnavailableMs: number | null;
  readonly totalMs: number;
  readonly viaAgents: true;
}

/**
 * A switchover under HA: asked of the agents through the DCS, never done behind their backs. The
 * leader's agent hands over (see handover.ts), the candidate's takes the lease and promotes, the old
 * primary's follows it; this waits until every node streams from the new leader.
 */
export async function haSwitchover(cluster: Cluster, to: string | undefined, onEvent: OnEvent): Promise<HaSwitchoverResult> {
  const started = Date.now();
  if (to !== undefined && !cluster.spec.nodes.some((n) => n.name === to)) {
    throw new UnknownNodeError(`no node named '${to}'`, { hint: `nodes are: ${cluster.spec.nodes.map((n) => n.name).join(', ')}` });
  }
  const dcs = await openClusterDcs(cluster);
  try {
    const from = (await dcs.leader())?.holder;
    if (!from) throw new PreconditionError('no node holds the leader lease: the agents are failing over or starting', { hint: 'wait for `pgrepl status` to show a leader' });
    if (to === from) throw new PreconditionError(`${to} is already the primary`, { hint: 'name another node with --to' });
    const asked = { from, to: to ?? null, candidate: null, refused: null, at: Date.now() };
    const stale = await readRequest(dcs);
    const expected = stale && Date.now() - stale.request.at > REQUEST_TTL_MS ? stale.version : null;
    if ((await dcs.put(REQUEST_KEY, asked, expected)) === null) {
      throw new ClusterBusyError('another switchover is under way', { hint: 'wait for it to finish (see `pgrepl status`)' });
    }
    onEvent({ type: 'step', node: from, message: `asked its agent to hand over to ${to ?? 'the most advanced replica'}` });
    try {
      const done = await waitFor(async () => {
        const now = (await readRequest(dcs))?.request;
        if (now?.refused) throw new PreconditionError(`the switchover was refused: ${now.refused}`, { hint: 'see `pgrepl status`' });
        const holder = (await dcs.leader())?.holder;
        return holder && holder !== from && now?.promotedAt ? { holder, request: now } : undefined;
      }, { what: `the agents to switch over from ${from}`, timeoutMs: REQUEST_TTL_MS, intervalMs: 10 });
      onEvent({ type: 'step', node: done.holder, message: 'holds the lease and accepts writes; waiting for the others to follow' });
      await converged(dcs, cluster.spec.nodes.map((n) => n.name));
      const { stoppedAt, promotedAt } = done.request;
      return { from, to: done.holder, writeUnavailableMs: stoppedAt && promotedAt ? promotedAt - stoppedAt : null, totalMs: Date.now() - started, viaAgents: true };
    } finally {
      await dcs.delete(REQUEST_KEY).catch(() => undefined);
    }
  } finally {
    await dcs.close();
  }
}
