import { formatLsn, type Lsn } from '../pg/lsn.js';
import { readHistory } from '../pg/timeline.js';
import { nodeTimeline } from './node-timeline.js';
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

/** Replicas found running, or last run, as primaries: the one adopted, and those to fence. */
export interface RoguePrimaries {
  readonly adoption: Adoption | null;
  readonly toFence: readonly string[];
  /** Replicas streaming on the new timeline of a rogue being fenced: they hold its writes, fenced too. */
  readonly followersToFence: readonly string[];
}

/**
 * Replicas that run as primaries (by their answer, or, for those that do not answer or are stopped,
 * `silentPrimaries`, by their control file), promoted by something pgrepl did not record. Two
 * primaries would be split brain, and whose writes to keep is not pgrepl's to guess: the one named
 * by `to`, if it runs, is adopted (when it left the old primary's timeline); any other is refused,
 * or with `force` fenced like the old primary (its writes set aside until `pgrepl rejoin`).
 */
export async function roguePrimaries(cluster: Cluster, oldPrimary: NodeSpec, look: readonly NodeObservation[], silentPrimaries: readonly string[], to: string | undefined, force: boolean): Promise<RoguePrimaries> {
  const running = look.filter((o) => o.position !== null && !o.position.inRecovery);
  const adopted = running.find((o) => o.node.name === to);
  const others = [...running.map((o) => o.node.name), ...silentPrimaries].filter((name) => name !== adopted?.node.name);
  if (others.length > 0 && !force) {
    const keep = !adopted && running.length === 1 ? `; to keep its writes instead, make it the primary with \`pgrepl failover --to ${running[0]!.node.name}\`` : '';
    throw new PreconditionError(`${others.join(', ')} ${others.length > 1 ? 'run or ran' : 'runs or ran'} as a primary (promoted by a failover that did not finish, or by hand)`, {
      hint: `pass --force to fence ${others.length > 1 ? 'them' : 'it'} (writes only there are set aside; only a fresh clone, \`pgrepl rejoin NAME --reclone\`, brings it back)${keep}`,
    });
  }
  const fencedRunning = running.filter((o) => o.node.name !== adopted?.node.name);
  if (!adopted && fencedRunning.length === 0) return { adoption: null, toFence: others, followersToFence: [] };
  const oldTimeline = await nodeTimeline(cluster, oldPrimary.name);
  return {
    adoption: adopted ? adoptionOf(cluster, oldPrimary, oldTimeline, adopted) : null,
    toFence: others,
    followersToFence: followersOfRogues(look, fencedRunning, oldTimeline),
  };
}

/**
 * Standbys on the new timeline of a rogue primary (repointed to it by the failover that promoted
 * it): what they received past its promotion are its writes. A rogue on the old primary's own
 * timeline (started writable, not promoted) has no timeline of its own to tell followers by.
 */
export function followersOfRogues(look: readonly NodeObservation[], rogues: readonly NodeObservation[], oldTimeline: number): string[] {
  const timelines = new Set(rogues.map((o) => o.position!.timeline).filter((t) => t > oldTimeline));
  const names = new Set(rogues.map((o) => o.node.name));
  return look.filter((o) => o.position?.inRecovery && timelines.has(o.position.timeline) && !names.has(o.node.name)).map((o) => o.node.name);
}

/** The adoption of `running`, a replica running as a primary: only if it left the old primary's timeline. */
function adoptionOf(cluster: Cluster, oldPrimary: NodeSpec, oldTimeline: number, running: NodeObservation): Adoption {
  const name = running.node.name;
  const timeline = running.position!.timeline;
  if (timeline <= oldTimeline) {
    throw new PreconditionError(`${name} runs as a primary on timeline ${timeline}, the old primary's own or an older one: it was started writable, not promoted`, {
      hint: `two writable nodes on one history is split brain: fail over without --to ${name} and with --force to fence it`,
    });
  }
  const point = promotionPoint(cluster, name, timeline);
  if (point.parent !== oldTimeline) {
    throw new PreconditionError(`${name} was promoted from timeline ${point.parent}, not from ${oldPrimary.name}'s timeline ${oldTimeline}`, {
      hint: `its history is not the cluster's: fail over without --to ${name} and with --force to fence it`,
    });
  }
  return { name, promotedAt: point.at };
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

/** Standings with the fenced rogue primaries marked so: never candidates. */
export function withRoguesFenced(all: readonly Standing[], rogues: RoguePrimaries): Standing[] {
  const fenced = new Set([...rogues.toFence, ...rogues.followersToFence]);
  return all.map((s) => (fenced.has(s.name) ? { ...s, fenced: true } : s));
}

export function describeAdoption(adoption: Adoption): string {
  return `adopting it: it already runs as a primary, promoted at ${formatLsn(adoption.promotedAt)}`;
}
