import { readdir } from 'node:fs/promises';
import { isPortFree } from '../util/ports.js';
import { isRunning } from '../pg/server.js';
import { stopProgramsWritingTo } from '../pg/stray.js';
import type { NodeSpec } from '../spec/schema.js';
import { instanceOf, type Cluster } from './context.js';
import { ForeignDataError, PortInUseError } from './errors.js';
import { readNodeState, type NodeBuildState } from './node-state.js';

/** What pgrepl finds in a node's directory before acting on it. */
export type NodeData =
  | { readonly kind: 'none' }
  | { readonly kind: 'ready' }
  /** Must be rewound (`pgrepl rejoin`) before it may start: it may hold WAL the primary lacks. */
  | { readonly kind: 'diverged' }
  /** Built once (state `ready`) but the data dir is gone since. */
  | { readonly kind: 'lost' }
  /** An earlier run stopped mid-initdb or mid-clone: everything in the data dir is pgrepl's own. */
  | { readonly kind: 'half-built'; readonly state: NodeBuildState };

async function hasData(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

/**
 * Classifies a node's data dir. Data with no build state is somebody else's and pgrepl refuses to
 * touch it; a build state short of `ready` marks what an interrupted run left behind.
 */
export async function inspectNodeData(cluster: Cluster, node: NodeSpec): Promise<NodeData> {
  const dataDir = cluster.layout.dataDir(node.name);
  const present = await hasData(dataDir);
  const state = await readNodeState(cluster.layout, node.name);
  if (state === null) {
    if (!present) return { kind: 'none' };
    throw new ForeignDataError(`${dataDir} holds data that pgrepl did not create (no ${cluster.layout.nodeStateFile(node.name)})`, {
      hint: `move it away, or remove node ${node.name} from pgrepl.yaml; pgrepl will not touch it`,
    });
  }
  if (state.phase === 'ready') return present ? { kind: 'ready' } : { kind: 'lost' };
  if (state.phase === 'diverged') return present ? { kind: 'diverged' } : { kind: 'lost' };
  return { kind: 'half-built', state };
}

/**
 * Removes only what pgrepl made: the data dir of a node whose build state says it is half-built.
 * A pg_basebackup still writing there (its pgrepl was killed outright) is stopped first.
 */
export async function removeHalfBuilt(cluster: Cluster, node: NodeSpec): Promise<void> {
  const dataDir = cluster.layout.dataDir(node.name);
  await stopProgramsWritingTo('pg_basebackup', dataDir);
  await cluster.layout.removeTree(dataDir);
}

/** Fails with the node and port named when another process holds the port a stopped node needs. */
export async function assertPortFreeFor(cluster: Cluster, node: NodeSpec): Promise<void> {
  if (await isRunning(instanceOf(cluster, node))) return;
  if (!(await isPortFree(node.port, node.host))) {
    throw new PortInUseError(`port ${node.port} (node ${node.name}) is already in use by another process`, {
      hint: `stop that process, or change ${node.name}'s port in ${cluster.layout.specFile}`,
    });
  }
}
