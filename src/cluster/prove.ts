import { replayLsn, serverPosition, walSenders, writeProbe } from '../pg/queries.js';
import { formatLsn } from '../pg/lsn.js';
import { withConnections, type Queryable } from '../pg/sql.js';
import { PgreplError } from '../errors.js';
import type { NodeSpec } from '../spec/schema.js';
import { primaryOf, replicasOf } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';
import { ReplicationNotProvenError } from './errors.js';

export interface ReplicaProof {
  readonly node: string;
  readonly probeLsn: string;
  readonly replayLsn: string;
}

function byUpstream(replicas: readonly NodeSpec[]): Map<string, NodeSpec[]> {
  const groups = new Map<string, NodeSpec[]>();
  for (const replica of replicas) groups.set(replica.upstream!, [...(groups.get(replica.upstream!) ?? []), replica]);
  return groups;
}

/** Polls one upstream's pg_stat_replication (one query at a time on its session) until every replica of `group` streams. */
async function waitForStreaming(db: Queryable, upstream: string, group: readonly NodeSpec[], timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      const senders = await walSenders(db);
      return group.every((r) => senders.some((s) => s.applicationName === r.name && s.state === 'streaming')) ? true : undefined;
    },
    { what: `${group.map((r) => r.name).join(', ')} to stream from ${upstream} (see \`pgrepl logs ${group[0]!.name}\`)`, timeoutMs, intervalMs: 5 },
  );
}

/**
 * Proves replication end to end: every replica shows `streaming` in its upstream's
 * pg_stat_replication, then replays a WAL record written on the primary after that. A replica that
 * merely reports `streaming` could be streaming from the wrong server; the replayed probe cannot lie.
 */
export async function proveReplication(cluster: Cluster, replicas: readonly NodeSpec[] = replicasOf(cluster.spec), timeoutMs = 60_000): Promise<ReplicaProof[]> {
  const deadline = Date.now() + timeoutMs;
  const remaining = (): number => Math.max(0, deadline - Date.now());
  const primary = primaryOf(cluster.spec);
  // One connection per node for the whole proof: polls are then one query, not a SCRAM handshake.
  const involved = new Set(replicas.flatMap((r) => [r.name, r.upstream!]));
  const nodes = [primary, ...cluster.spec.nodes.filter((n) => n.name !== primary.name && involved.has(n.name))];
  try {
    return await withConnections(nodes.map((n) => adminTarget(cluster, n)), async (dbs) => {
      const session = new Map(nodes.map((n, i) => [n.name, dbs[i]!]));
      await Promise.all([...byUpstream(replicas)].map(([upstream, group]) => waitForStreaming(session.get(upstream)!, upstream, group, remaining())));
      const probe = await writeProbe(session.get(primary.name)!);
      return Promise.all(
        replicas.map(async (replica) => {
          const db = session.get(replica.name)!;
          const replayed = await waitFor(
            async () => {
              // A delayed replica applies the probe only after its delay: it proves receipt instead.
              const lsn = replica.delay === undefined ? await replayLsn(db) : (await serverPosition(db)).lsn;
              return lsn !== null && lsn >= probe ? lsn : undefined;
            },
            { what: `${replica.name} to replay the probe written at ${formatLsn(probe)}`, timeoutMs: remaining(), intervalMs: 2 },
          );
          return { node: replica.name, probeLsn: formatLsn(probe), replayLsn: formatLsn(replayed) };
        }),
      );
    });
  } catch (error) {
    if (error instanceof PgreplError) {
      throw new ReplicationNotProvenError(`replication not proven: ${error.message}`, { hint: 'check `pgrepl status` and `pgrepl logs NAME`', cause: error });
    }
    throw error;
  }
}
