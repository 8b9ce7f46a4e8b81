import { PgreplError, UsageError } from '../../errors.js';
import { waitFor } from '../../util/wait.js';
import { compose, runCompose } from './engine.js';
import { lookNode, nodeQuery } from './look.js';
import { readPrimary, type ComposeProject } from './project.js';

export interface RejoinResult {
  readonly node: string;
  readonly primary: string;
  readonly method: 'rewind' | 'reclone';
}

/** The node script exits 3 when pg_rewind cannot rewind (the caller then clones afresh). */
const REWIND_IMPOSSIBLE = 3;

/**
 * Brings a node back as a standby of the primary named in state/primary: stop it, pg_rewind it
 * from the primary in a one-off container of its own service (same volume, secrets and network),
 * or, when that fails or is asked for, wipe it (as postgres) so that its next start clones. Then
 * start it and wait until it streams.
 */
export async function composeRejoin(project: ComposeProject, node: string, options: { reclone: boolean; timeoutMs: number }, progress: (line: string) => void = () => {}): Promise<RejoinResult> {
  if (!project.nodes.includes(node)) throw new UsageError(`${node} is not a node of this project (${project.nodes.join(', ')})`, { hint: 'name one of them' });
  const primary = await readPrimary(project);
  if (node === primary) throw new UsageError(`${node} is the primary (state/primary)`, { hint: 'rejoin a node that is not the primary' });
  const head = await lookNode(project, primary);
  if (!head.running || head.inRecovery) {
    throw new PgreplError(`the primary ${primary} is not running as a primary`, { hint: 'start it, or run pgrepl compose failover first' });
  }
  await nodeQuery(project, primary,
    `SELECT pg_create_physical_replication_slot('${node}', true) WHERE '${node}' NOT IN (SELECT slot_name FROM pg_replication_slots)`);
  progress(`stopping ${node}`);
  await compose(project.dir, ['stop', '-t', '60', node]);
  let method: RejoinResult['method'] = 'reclone';
  if (!options.reclone) {
    progress(`pg_rewind ${node} from ${primary}`);
    const rewind = await runCompose(project.dir, ['run', '--rm', '--no-deps', '-T', node, 'rewind']);
    if (rewind.code === 0) method = 'rewind';
    else if (rewind.code !== REWIND_IMPOSSIBLE) {
      throw new PgreplError(`pg_rewind of ${node} failed (exit ${rewind.code}): ${rewind.stderr.trim().split('\n').slice(-2).join(' / ')}`, {
        hint: `retry with --reclone to copy ${primary} afresh`,
      });
    } else progress(`pg_rewind cannot rewind ${node}; cloning it afresh`);
  }
  if (method === 'reclone') await compose(project.dir, ['run', '--rm', '--no-deps', '-T', node, 'reclone']);
  progress(`starting ${node}`);
  await compose(project.dir, ['up', '-d', '--no-deps', node]);
  await waitFor(async () => {
    const look = await lookNode(project, node);
    return look.running && look.inRecovery && look.walReceiver === 'streaming' ? true : undefined;
  }, { what: `${node} to stream from ${primary}`, timeoutMs: options.timeoutMs, intervalMs: 500 });
  // Slots it kept from when it was a primary would hold WAL here for nothing; failover recreates what it needs.
  await nodeQuery(project, node, 'SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE NOT active');
  return { node, primary, method };
}
