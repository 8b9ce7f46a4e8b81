import { readdir } from 'node:fs/promises';
import { isPortFree } from '../util/ports.js';
import { isRunning } from '../pg/server.js';
import { runningServerEvidence, stopProgramsWritingTo } from '../pg/stray.js';
import { isAlive, readPostmasterPid } from '../pg/postmaster-pid.js';
import { waitFor } from '../util/wait.js';
import type { OnEvent } from './events.js';
import type { NodeSpec } from '../spec/schema.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { withConnection } from '../pg/sql.js';
import { isInRecovery } from '../pg/queries.js';
import { ForeignDataError, PortInUseError, ServerRunsError } from './errors.js';
import { readNodeState, writeNodeState, type NodeBuildState } from './node-state.js';

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
 * A pg_basebackup still writing there (its pgrepl was killed outright) is stopped first. A build
 * state is what a crash left, never proof: the directory goes only once no server can run on it.
 */
export async function removeHalfBuilt(cluster: Cluster, node: NodeSpec): Promise<void> {
  const dataDir = cluster.layout.dataDir(node.name);
  await stopProgramsWritingTo('pg_basebackup', dataDir);
  const server = await runningServerEvidence(dataDir);
  if (server !== null) {
    throw new ServerRunsError(`${node.name}'s data directory ${dataDir} is marked half-built, but ${server}; pgrepl will not delete a running server's files`, {
      hint: `stop it (\`pgrepl down\`), then run the command again`,
    });
  }
  await cluster.layout.removeTree(dataDir);
}

/**
 * A clone is marked `ready` only after its first start; a run cut off in between (Ctrl-C, kill)
 * leaves a standby running on a data dir still marked `cloning`. pgrepl starts a clone only once
 * pg_basebackup has finished and its files are written, and a standby reaches `standby` (consistent,
 * accepting reads) only from a whole backup: such a server is adopted, not cloned again. Returns
 * whether it was (the caller proves it streams, as for any replica).
 */
export async function adoptStartedClone(cluster: Cluster, node: NodeSpec, data: NodeData, onEvent: OnEvent): Promise<boolean> {
  if (data.kind !== 'half-built' || data.state.phase !== 'cloning') return false;
  const dataDir = cluster.layout.dataDir(node.name);
  const status = await waitFor(
    async () => {
      const info = await readPostmasterPid(dataDir);
      if (!info || !isAlive(info.pid)) return null;
      return info.status === 'standby' || info.status === 'ready' ? true : undefined;
    },
    { what: `${node.name}'s running server to accept connections`, timeoutMs: 60_000, intervalMs: 20 },
  );
  // postmaster.pid says `ready` for a hot standby too: ask the server itself what it is.
  if (status === null || !(await withConnection(adminTarget(cluster, node), isInRecovery).catch(() => false))) return false;
  onEvent({ type: 'warning', node: node.name, message: 'an earlier run started this clone but was cut off before recording it; adopting the running standby' });
  await writeNodeState(cluster.layout, node.name, { phase: 'ready' });
  return true;
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
