import type { ClusterSpec, NodeSpec } from './schema.js';

/** Pure questions about a spec's topology. A valid spec has exactly one primary. */
export function primaryOf(spec: ClusterSpec): NodeSpec {
  const primary = spec.nodes.find((n) => n.upstream === undefined);
  if (!primary) throw new Error('invariant: a validated spec has a primary');
  return primary;
}

export function replicasOf(spec: ClusterSpec): NodeSpec[] {
  return spec.nodes.filter((n) => n.upstream !== undefined);
}

export function nodeNamed(spec: ClusterSpec, name: string): NodeSpec | undefined {
  return spec.nodes.find((n) => n.name === name);
}

/** The next free `pgN` name. */
export function nextNodeName(spec: ClusterSpec): string {
  const used = new Set(spec.nodes.map((n) => n.name));
  for (let i = 1; ; i++) if (!used.has(`pg${i}`)) return `pg${i}`;
}
