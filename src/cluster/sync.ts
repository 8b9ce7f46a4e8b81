import { quorumStandbyNames } from '../pg/settings.js';
import { isQuorumMember, type ClusterSpec } from '../spec/schema.js';

/** The replicas whose acknowledgements count toward the synchronous quorum. */
export function quorumMembers(spec: ClusterSpec): string[] {
  return spec.nodes.filter((n) => isQuorumMember(spec.nodes, n)).map((n) => n.name);
}

/** `synchronous_standby_names` for the spec: `ANY K (a,b,...)` over the quorum members, or '' when asynchronous. */
export function synchronousStandbyNames(spec: ClusterSpec): string {
  return quorumStandbyNames(spec.replication.sync, quorumMembers(spec));
}
