import { setTimeout as sleep } from 'node:timers/promises';
import { PgreplError } from '../../errors.js';
import { compose, composeCommand } from './engine.js';
import { lookAll, nodeQuery } from './look.js';
import { chooseCandidate, nodesToFence } from './plan.js';
import { readPrimary, writePrimary, type ComposeProject } from './project.js';

export class FailoverRefusedError extends PgreplError {}

/** Connection deadline for the failover's queries: a loaded engine can take seconds to pass a connection on. */
const LOOK_MS = 10_000;
const REPOINT_MS = 20_000;

export interface FailoverResult {
  readonly from: string;
  readonly to: string;
  readonly fenced: string[];
  readonly repointed: string[];
  /** Standbys that did not answer: they follow the new primary on their next start. */
  readonly notRepointed: string[];
  readonly reason: string;
}

/** The conninfo every standby streams with (the node script writes the same one at start). */
export function upstreamConninfo(project: ComposeProject, host: string): string {
  return `host=${host} port=5432 user=replicator passfile=${project.passfile}`;
}

function sqlLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Reserved slots on the new primary for every other node (created while it is still a standby). */
function slotsSql(nodes: readonly string[]): string {
  const names = nodes.map(sqlLiteral).join(', ');
  return `SELECT pg_create_physical_replication_slot(n, true) FROM unnest(ARRAY[${names}]) AS n WHERE n NOT IN (SELECT slot_name FROM pg_replication_slots)`;
}

/**
 * Points a running standby at `to` (ALTER SYSTEM, reload: the walreceiver reconnects at once).
 * Retried for `retryMs` (a node that answered the look); false when it does not answer (stopped: it
 * follows on its next start, from state/primary).
 */
async function repoint(project: ComposeProject, node: string, to: string, retryMs: number): Promise<boolean> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      // Separate statements: ALTER SYSTEM refuses to run inside a (multi-statement) transaction.
      await nodeQuery(project, node, `ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(upstreamConninfo(project, to))}`, LOOK_MS);
      await nodeQuery(project, node, 'SELECT pg_reload_conf()', LOOK_MS);
      return true;
    } catch {
      if (Date.now() > deadline) return false;
      await sleep(500);
    }
  }
}

/**
 * Fails over: look, fence, look again, choose, record, repoint, promote.
 * 1. The named primary, answering or not, and every other node that answers as writable are
 *    stopped first, so two writable primaries never exist; a fast shutdown also ships its last WAL
 *    to the standbys.
 * 2. The most advanced standby is chosen after that, when positions no longer move.
 * 3. state/primary names it, durably, before it is promoted: from then on every node's entrypoint
 *    treats the old primary as a standby, so no `up -d`/`start`/`restart` brings it back writable.
 * 4. The other standbys get their slots on it and are repointed to it while it is still a standby
 *    (cascading), so they follow its promotion at once and a quorum is there for the first commit.
 */
export async function composeFailover(project: ComposeProject, progress: (line: string) => void = () => {}): Promise<FailoverResult> {
  // Which Compose CLI runs is found by running one (`docker compose version`): found while the
  // nodes are looked at, not after, when the fence waits on it.
  void composeCommand().catch(() => undefined);
  const from = await readPrimary(project);
  const first = await lookAll(project, project.nodes, LOOK_MS);
  const fence = nodesToFence(from, first);
  const precheck = chooseCandidate(fence, first);
  if (!precheck.ok) throw new FailoverRefusedError(`no failover: ${precheck.reason}; nothing was changed`, { hint: 'start a standby (docker compose start pgN) and retry' });
  progress(`fencing ${fence.join(', ')} (compose stop, so its container cannot take writes)`);
  await compose(project.dir, ['stop', '-t', '60', ...fence]);
  const choice = chooseCandidate(fence, await lookAll(project, project.nodes.filter((n) => !fence.includes(n)), LOOK_MS));
  if (!choice.ok) {
    throw new FailoverRefusedError(`no failover: ${choice.reason}; ${fence.join(', ') || 'no node'} stopped`, { hint: 'start a standby and run pgrepl compose failover again' });
  }
  const to = choice.candidate;
  progress(`promoting ${to}: ${choice.reason}`);
  await writePrimary(project, to);
  await nodeQuery(project, to, slotsSql(project.nodes.filter((n) => n !== to)), LOOK_MS);
  // Every other node not fenced, also one that did not answer the look (a slow engine): a standby
  // left pointing at the fenced node would never give the new primary its quorum.
  const others = project.nodes.filter((n) => n !== to && !fence.includes(n));
  const answered = new Set(choice.others);
  const repointed = await Promise.all(others.map((node) => repoint(project, node, to, answered.has(node) ? REPOINT_MS : 0)));
  const promoted = await nodeQuery(project, to, 'SELECT pg_promote(true, 60)', 70_000);
  if (promoted !== 't') throw new PgreplError(`${to} did not finish promoting within 60 s`, { hint: `see docker compose logs ${to}` });
  return {
    from, to, fenced: fence, reason: choice.reason,
    repointed: others.filter((_, i) => repointed[i]), notRepointed: others.filter((_, i) => !repointed[i]),
  };
}
