import { replayLsn, serverPosition, walSenders, writeProbe } from '../pg/queries.js';
import { formatLsn } from '../pg/lsn.js';
import { withConnection } from '../pg/sql.js';
import { PgreplError } from '../errors.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, replicasOf } from '../spec/topology.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';
import { ReplicationNotProvenError } from './errors.js';

export interface ReplicaProof {
  readonly node: string;
  readonly probeLsn: string;
  readonly replayLsn: string;
}

async function waitStreaming(cluster: Cluster, replica: NodeSpec, deadline: number): Promise<void> {
  const upstream = nodeNamed(cluster.spec, replica.upstream ?? '')!;
  await waitFor(
    () =>
      withConnection(adminTarget(cluster, upstream), async (db) => {
        const sender = (await walSenders(db)).find((s) => s.applicationName === replica.name);
        return sender?.state === 'streaming' ? true : undefined;
      }),
    { what: `${replica.name} to stream from ${upstream.name} (see its log: ${cluster.layout.logFile(replica.name)})`, timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 10 },
  );
}

/**
 * Proves replication end to end: every replica shows `streaming` in its upstream's
 * pg_stat_replication, then replays a WAL record written on the primary after that. A replica that
 * merely reports `streaming` could be streaming from the wrong server; the replayed probe cannot lie.
 */
export async function proveReplication(cluster: Cluster, replicas: readonly NodeSpec[] = replicasOf(cluster.spec), timeoutMs = 60_000): Promise<ReplicaProof[]> {
  const deadline = Date.now() + timeoutMs;
  try {
    await Promise.all(replicas.map((r) => waitStreaming(cluster, r, deadline)));
    const probe = await withConnection(adminTarget(cluster, primaryOf(cluster.spec)), writeProbe);
    return await Promise.all(
      replicas.map(async (replica) => {
        const replayed = await waitFor(
          () => withConnection(adminTarget(cluster, replica), async (db) => {
            // A delayed replica applies the probe only after its delay: it proves receipt instead.
            const lsn = replica.delay === undefined ? await replayLsn(db) : (await serverPosition(db)).lsn;
            return lsn !== null && lsn >= probe ? lsn : undefined;
          }),
          { what: `${replica.name} to replay the probe written at ${formatLsn(probe)}`, timeoutMs: Math.max(0, deadline - Date.now()), intervalMs: 5 },
        );
        return { node: replica.name, probeLsn: formatLsn(probe), replayLsn: formatLsn(replayed) };
      }),
    );
  } catch (error) {
    if (error instanceof PgreplError) {
      throw new ReplicationNotProvenError(`replication not proven: ${error.message}`, { hint: 'check `pgrepl status` and `pgrepl logs NAME`', cause: error });
    }
    throw error;
  }
}
