import { UsageError } from '../errors.js';
import { clusterSpecSchema } from '../spec/schema.js';
import { applyConfig } from './apply-config.js';
import type { Cluster } from './context.js';
import { saveSpec } from './create.js';
import { quorumMembers, synchronousStandbyNames } from './sync.js';

/** Sets the synchronous quorum K in the spec, refusing a K the replicas cannot meet. */
export async function setSyncInSpec(cluster: Cluster, k: number): Promise<Cluster> {
  if (k === cluster.spec.replication.sync) return cluster;
  const members = quorumMembers(cluster.spec);
  if (k > members.length) {
    throw new UsageError(`cannot wait for ${k} synchronous standbys: only ${members.length} replica(s) stream directly from the primary without a delay (${members.join(', ') || 'none'})`, {
      hint: `use a K from 0 to ${members.length}, or add replicas first (\`pgrepl add-replica\`)`,
    });
  }
  const spec = clusterSpecSchema.parse({ ...cluster.spec, replication: { ...cluster.spec.replication, sync: k } });
  return saveSpec(cluster, spec);
}

export interface SetSyncResult {
  readonly sync: number;
  readonly synchronousStandbyNames: string;
  readonly reloaded: readonly string[];
}

/** `pgrepl set sync K`: records K and reloads every running node with the new synchronous_standby_names. */
export async function setSync(cluster: Cluster, k: number): Promise<SetSyncResult> {
  const updated = await setSyncInSpec(cluster, k);
  const reloaded = await applyConfig(updated);
  return { sync: k, synchronousStandbyNames: synchronousStandbyNames(updated.spec), reloaded };
}
