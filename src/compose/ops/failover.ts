import { PgreplError } from '../../errors.js';
import { compose } from './engine.js';
import { lookAll, nodeQuery } from './look.js';
import { chooseCandidate, nodesToFence } from './plan.js';
import { readPrimary, writePrimary, type ComposeProject } from './project.js';

export class FailoverRefusedError extends PgreplError {}

export interface FailoverResult {
  readonly from: string;
  readonly to: string;
  readonly fenced: string[];
  readonly repointed: string[];
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
 * Fails over: look, fence, look again, choose, record, repoint, promote.
 * 1. Every running node that could accept writes (the named primary, any rogue) is stopped first,
 *    so two writable primaries never exist; a fast shutdown also ships its last WAL to the standbys.
 * 2. The most advanced standby is chosen after that, when positions no longer move.
 * 3. state/primary names it, durably, before it is promoted: from then on every node's entrypoint
 *    treats the old primary as a standby, so no `up -d`/`start`/`restart` brings it back writable.
 * 4. The other standbys get their slots on it and are repointed to it while it is still a standby
 *    (cascading), so they follow its promotion at once and a quorum is there for the first commit.
 */
export async function composeFailover(project: ComposeProject, progress: (line: string) => void = () => {}): Promise<FailoverResult> {
  const from = await readPrimary(project);
  const first = await lookAll(project);
  const fence = nodesToFence(from, first);
  const precheck = chooseCandidate(fence, first);
  if (!precheck.ok) throw new FailoverRefusedError(`no failover: ${precheck.reason}; nothing was changed`, { hint: 'start a standby (docker compose start pgN) and retry' });
  if (fence.length > 0) {
    progress(`fencing ${fence.join(', ')} (docker compose stop)`);
    await compose(project.dir, ['stop', '-t', '60', ...fence]);
  }
  const choice = chooseCandidate(fence, await lookAll(project, project.nodes.filter((n) => !fence.includes(n))));
  if (!choice.ok) {
    throw new FailoverRefusedError(`no failover: ${choice.reason}; ${fence.join(', ') || 'no node'} stopped`, { hint: 'start a standby and run pgrepl compose failover again' });
  }
  const to = choice.candidate;
  progress(`promoting ${to}: ${choice.reason}`);
  await writePrimary(project, to);
  await nodeQuery(project, to, slotsSql(project.nodes.filter((n) => n !== to)));
  await Promise.all(choice.others.map(async (node) => {
    // Separate statements: ALTER SYSTEM refuses to run inside a (multi-statement) transaction.
    await nodeQuery(project, node, `ALTER SYSTEM SET primary_conninfo = ${sqlLiteral(upstreamConninfo(project, to))}`);
    await nodeQuery(project, node, 'SELECT pg_reload_conf()');
  }));
  const promoted = await nodeQuery(project, to, 'SELECT pg_promote(true, 60)', 70_000);
  if (promoted !== 't') throw new PgreplError(`${to} did not finish promoting within 60 s`, { hint: `see docker compose logs ${to}` });
  return { from, to, fenced: fence, repointed: choice.others, reason: choice.reason };
}
