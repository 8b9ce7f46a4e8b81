import type { ClusterLayout } from './layout.js';

/**
 * How far pgrepl got building a node, written before each long step so an interrupted run can be
 * told apart from data pgrepl never made: a data dir with no state file is not ours to touch.
 */
export type NodeBuildState =
  | { readonly phase: 'initializing' }
  | { readonly phase: 'cloning'; readonly from: string }
  | { readonly phase: 'ready' }
  /**
   * A former primary (or a node fenced in a failover) whose WAL may have forked: start it only after
   * `rejoin`. `recloneOnly`: its history may not be told apart from the cluster's (it was promoted
   * outside pgrepl), so pg_rewind is not to be trusted with it.
   */
  | { readonly phase: 'diverged'; readonly since: string; readonly recloneOnly?: true }
  /** pg_rewind is changing its data: cut off, the data is unusable and only a fresh clone brings it back. */
  | { readonly phase: 'rewinding'; readonly since: string };

export async function readNodeState(layout: ClusterLayout, name: string): Promise<NodeBuildState | null> {
  try {
    return JSON.parse(await layout.readFile(layout.nodeStateFile(name))) as NodeBuildState;
  } catch {
    return null;
  }
}

export async function writeNodeState(layout: ClusterLayout, name: string, state: NodeBuildState): Promise<void> {
  await layout.ensureDir(layout.stateDir, 0o755, 'admin');
  await layout.writeFile(layout.nodeStateFile(name), `${JSON.stringify(state)}\n`, 0o644, 'admin');
}
