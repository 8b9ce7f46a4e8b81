import type { ClusterSpec, HaSpec, NodeSpec } from '../spec/schema.js';
import { UsageError } from '../errors.js';
import { validateTiming } from './timing.js';

/** HA is on for a cluster whose spec has an `ha` section. */
export function haOf(spec: ClusterSpec): HaSpec | null {
  return spec.ha ?? null;
}

/** The spec's HA settings, their timing checked (with the arithmetic in the error). */
export function requireHa(spec: ClusterSpec): HaSpec {
  const ha = haOf(spec);
  if (!ha) throw new UsageError('this cluster has no HA agents', { hint: 'start them with `pgrepl up --ha`' });
  validateTiming(ha);
  return ha;
}

/** The agent's REST base URL for a node, or null when it has no API port. */
export function apiUrl(node: NodeSpec): string | null {
  if (node.apiPort === undefined) return null;
  const host = node.host.includes(':') ? `[${node.host}]` : node.host;
  return `http://${host}:${node.apiPort}`;
}
