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

/** Nodes that stream straight from `name`. */
export function downstreamOf(spec: ClusterSpec, name: string): NodeSpec[] {
  return spec.nodes.filter((n) => n.upstream === name);
}

/**
 * The spec after `candidate` becomes primary: it loses its upstream, the old primary and every
 * other node that streamed from the old primary stream from it; cascaded nodes keep their upstream.
 */
export function withNewPrimary(spec: ClusterSpec, candidate: string): ClusterSpec {
  const old = primaryOf(spec).name;
  const nodes = spec.nodes.map((n): NodeSpec => {
    if (n.name === candidate) return withoutUpstream(n);
    if (n.name === old || n.upstream === old) return { ...n, upstream: candidate };
    return n;
  });
  return { ...spec, nodes };
}

function withoutUpstream(node: NodeSpec): NodeSpec {
  const { upstream: _upstream, delay: _delay, ...rest } = node;
  return rest;
}
