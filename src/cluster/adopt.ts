import { controlData } from '../pg/controldata.js';
import { formatLsn, type Lsn } from '../pg/lsn.js';
import { newestTimeline, readHistory } from '../pg/timeline.js';
import type { NodeSpec } from '../spec/schema.js';
import type { Standing } from './candidate.js';
import type { Cluster } from './context.js';
import { PreconditionError } from './errors.js';
import type { NodeObservation } from './observe.js';

/**
 * A replica already running as a primary, promoted by something pgrepl did not record (an
 * interrupted failover, a hand-run pg_promote), that a failover makes the primary instead of
 * promoting another beside it. `promotedAt` is where its timeline left the one the others share:
 * what it holds of that history, the position it is compared by.
 */
export interface Adoption {
  readonly name: string;
  readonly promotedAt: Lsn;
}

/**
 * Refuses while any replica runs, or last ran, as a primary, unless the one running as a primary
 * is named by `to` (then it is adopted) and was promoted from the old primary's timeline. Two
 * primaries would be split brain; which one's writes to keep is not pgrepl's to guess.
 */
export async function adoptionOf(cluster: Cluster, oldPrimary: NodeSpec, look: readonly NodeObservation[], stoppedPrimaries: readonly string[], to: string | undefined): Promise<Adoption | null> {
  const running = look.filter((o) => o.position !== null && !o.position.inRecovery);
  const all = [...running.map((o) => o.node.name), ...stoppedPrimaries];
  if (all.length === 0) return null;
  if (all.length > 1) {
    throw new PreconditionError(`replicas ${all.join(', ')} all run or ran as primaries; pgrepl will not choose between them`, {
      hint: 'stop all but the one whose writes you keep and start that one, then `pgrepl failover --to NAME` for it',
    });
  }
  const [name] = all as [string];
  const runs = running[0];
  if (!runs || name !== to) {
    throw new PreconditionError(`replica ${name} ${runs ? 'already runs' : 'last ran'} as a primary (promoted by a failover that did not finish, or by hand)`, {
      hint: runs ? `make it the primary with \`pgrepl failover --to ${name}\`` : `start it (pgrepl will not), then make it the primary with \`pgrepl failover --to ${name}\``,
    });
  }
  const timeline = runs.position!.timeline;
  const oldTimeline = await lastTimeline(cluster, oldPrimary);
  if (timeline <= oldTimeline) {
    throw new PreconditionError(`${name} runs as a primary on timeline ${timeline}, the old primary's own or an older one: it was started writable, not promoted`, {
      hint: `two writable nodes on one history is split brain: stop it, and bring it back with \`pgrepl rejoin ${name} --reclone\` once another node is the primary`,
    });
  }
  const point = promotionPoint(cluster, name, timeline);
  if (point.parent !== oldTimeline) {
    throw new PreconditionError(`${name} was promoted from timeline ${point.parent}, not from ${oldPrimary.name}'s timeline ${oldTimeline}`, {
      hint: `its history is not the cluster's: clone it afresh with \`pgrepl rejoin ${name} --reclone\` once another node is the primary`,
    });
  }
  return { name, promotedAt: point.at };
}

/** The timeline a stopped node was last on (see newestTimeline). */
async function lastTimeline(cluster: Cluster, node: NodeSpec): Promise<number> {
  const dataDir = cluster.layout.dataDir(node.name);
  return newestTimeline(dataDir, (await controlData(cluster.bin, cluster.user, dataDir)).timeline);
}

/** The last entry of a node's timeline history: the timeline it left, and where. */
function promotionPoint(cluster: Cluster, name: string, timeline: number): { parent: number; at: Lsn } {
  const last = readHistory(cluster.layout.dataDir(name), timeline).at(-1);
  if (!last) {
    throw new PreconditionError(`cannot read where ${name} was promoted: no usable history for timeline ${timeline} in its pg_wal`, { hint: `check it by hand; \`pgrepl rejoin ${name} --reclone\` makes it a replica again` });
  }
  return { parent: last.parent, at: last.switchPoint };
}

/**
 * Standings with the adopted node compared by where it was promoted, as a running candidate.
 * Replicas already on its timeline (repointed to it by the failover that promoted it) follow it:
 * what they received past its promotion came from it, so they count as caught up, not ahead.
 */
export function withAdoption(all: readonly Standing[], adoption: Adoption | null): Standing[] {
  if (!adoption) return [...all];
  const timeline = all.find((s) => s.name === adoption.name)?.timeline ?? null;
  return all.map((s) => {
    if (s.name === adoption.name) return { ...s, receivedLsn: adoption.promotedAt, running: true };
    if (timeline !== null && s.timeline === timeline && s.receivedLsn !== null && s.receivedLsn > adoption.promotedAt) return { ...s, receivedLsn: adoption.promotedAt };
    return s;
  });
}

export function describeAdoption(adoption: Adoption): string {
  return `adopting it: it already runs as a primary, promoted at ${formatLsn(adoption.promotedAt)}`;
}
