import { isQuorumMember, type ClusterSpec } from '../spec/schema.js';

/** The replicas whose acknowledgements count toward the synchronous quorum. */
export function quorumMembers(spec: ClusterSpec): string[] {
  return spec.nodes.filter((n) => isQuorumMember(spec.nodes, n)).map((n) => n.name);
}

/**
 * `synchronous_standby_names` for the spec: `ANY K (a, b, ...)` over the quorum members, or '' when
 * asynchronous. Quorum (ANY) rather than priority (FIRST): any K acknowledgements suffice, so one
 * slow or restarting replica does not stall commits while others are healthy.
 */
export function synchronousStandbyNames(spec: ClusterSpec): string {
  const k = spec.replication.sync;
  if (k === 0) return '';
  return `ANY ${k} (${quorumMembers(spec).join(', ')})`;
}
