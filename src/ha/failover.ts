import type { Cluster } from '../cluster/context.js';
import { PreconditionError } from '../cluster/errors.js';
import type { OnEvent } from '../cluster/events.js';
import { waitFor } from '../util/wait.js';
import { converged, openClusterDcs } from './enable.js';
import { readPaused } from './pause.js';
import { haSwitchover } from './switchover.js';

export interface HaFailoverResult {
  readonly from: string | null;
  readonly to: string;
  readonly totalMs: number;
  readonly viaAgents: true;
}

/**
 * `pgrepl failover` on an HA cluster. The agents fail over by themselves; by hand, a person may
 * only ask what they would do: with the lease free this waits for them to elect the most advanced
 * replica; with a live leader it refuses (or, forced, switches over through the agents). While
 * paused it returns null: the classic failover runs, and the agents adopt its result on resume.
 */
export async function haFailover(cluster: Cluster, to: string | undefined, force: boolean, onEvent: OnEvent): Promise<HaFailoverResult | null> {
  const started = Date.now();
  const dcs = await openClusterDcs(cluster);
  try {
    if (await readPaused(dcs)) return null;
    const leader = (await dcs.leader())?.holder ?? null;
    if (leader !== null && !force) {
      throw new PreconditionError(`${leader} holds the leader lease and its agent renews it: the primary is alive`, {
        hint: 'use `pgrepl switchover [--to NODE]`, or pass --force to switch over through the agents even so',
      });
    }
    if (leader !== null) {
      const done = await haSwitchover(cluster, to, onEvent);
      return { from: done.from, to: done.to, totalMs: Date.now() - started, viaAgents: true };
    }
    if (to !== undefined) {
      throw new PreconditionError('the agents are failing over to the most advanced replica and cannot be steered now', { hint: 'to choose the node yourself: `pgrepl pause`, then `pgrepl failover --to NODE`, then `pgrepl resume`' });
    }
    onEvent({ type: 'step', message: 'the lease is free: waiting for the agents to elect the most advanced replica' });
    const ttl = cluster.spec.ha!.ttlMs;
    const elected = await waitFor(async () => (await dcs.leader().catch(() => null))?.holder ?? undefined, { what: 'the agents to elect a new leader', timeoutMs: 10 * ttl, intervalMs: 20 });
    await converged(dcs, cluster.spec.nodes.map((n) => n.name)).catch(() => undefined);
    return { from: null, to: elected, totalMs: Date.now() - started, viaAgents: true };
  } finally {
    await dcs.close();
  }
}
