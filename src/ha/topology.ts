import type { Cluster } from '../cluster/context.js';
import { primaryOf, withNewPrimary } from '../spec/topology.js';

/**
 * The cluster as it is when `leader` holds the lease: the spec records the last primary pgrepl
 * knew, the lease says who leads now, and every step an agent takes is planned against the latter.
 */
export function clusterLedBy(cluster: Cluster, leader: string): Cluster {
  if (primaryOf(cluster.spec).name === leader) return cluster;
  if (!cluster.spec.nodes.some((n) => n.name === leader)) return cluster;
  return { ...cluster, spec: withNewPrimary(cluster.spec, leader) };
}
