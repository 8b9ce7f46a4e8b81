import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf } from '../spec/topology.js';
import type { Cluster } from './context.js';
import { UnknownNodeError } from './errors.js';

function hostPort(node: NodeSpec): string {
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return `${host}:${node.port}`;
}

/**
 * A libpq URI psql accepts as is. It carries no password: `passfile=` points at the cluster's 0600
 * superuser passfile. Without a node, every node is listed primary first with
 * `target_session_attrs=read-write`, so libpq always lands on whichever node is the primary.
 */
export function clusterUrl(cluster: Cluster, nodeName?: string): string {
  const { user } = cluster.secrets.superuser;
  const params = new URLSearchParams({ passfile: cluster.layout.superuserPassfile });
  let hosts: string;
  if (nodeName !== undefined) {
    const node = nodeNamed(cluster.spec, nodeName);
    if (!node) throw unknownNode(cluster, nodeName);
    hosts = hostPort(node);
  } else {
    const primary = primaryOf(cluster.spec);
    hosts = [primary, ...cluster.spec.nodes.filter((n) => n !== primary)].map(hostPort).join(',');
    params.set('target_session_attrs', 'read-write');
  }
  // Percent-encoded (a space as %20): URLSearchParams would write `+`, which libpq does not decode.
  const query = [...params].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  return `postgresql://${encodeURIComponent(user)}@${hosts}/postgres?${query}`;
}

export function unknownNode(cluster: Cluster, name: string): UnknownNodeError {
  return new UnknownNodeError(`no node named '${name}' in this cluster`, {
    hint: `nodes are: ${cluster.spec.nodes.map((n) => n.name).join(', ')}`,
  });
}
