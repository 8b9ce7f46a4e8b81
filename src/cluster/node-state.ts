import * as z from 'zod/mini';
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

const stateSchema = z.discriminatedUnion('phase', [
  z.object({ phase: z.literal('initializing') }),
  z.object({ phase: z.literal('cloning'), from: z.string() }),
  z.object({ phase: z.literal('ready') }),
  z.object({ phase: z.literal('diverged'), since: z.string(), recloneOnly: z.optional(z.literal(true)) }),
  z.object({ phase: z.literal('rewinding'), since: z.string() }),
]);

/**
 * The node's build state: null when there is none (pgrepl did not build it). A state file that
 * is there but unreadable or malformed fails closed: `diverged`, so nothing starts the node
 * writable or takes it for a healthy replica until `rejoin` has dealt with it.
 */
export async function readNodeState(layout: ClusterLayout, name: string): Promise<NodeBuildState | null> {
  let text: string;
  try {
    text = await layout.readFile(layout.nodeStateFile(name));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return unreadable();
  }
  try {
    const parsed = z.safeParse(stateSchema, JSON.parse(text));
    return parsed.success ? (parsed.data as NodeBuildState) : unreadable();
  } catch {
    return unreadable();
  }
}

function unreadable(): NodeBuildState {
  return { phase: 'diverged', since: 'unknown: its state file is unreadable' };
}

export async function writeNodeState(layout: ClusterLayout, name: string, state: NodeBuildState): Promise<void> {
  await layout.ensureDir(layout.stateDir, 0o755, 'admin');
  await layout.writeFile(layout.nodeStateFile(name), `${JSON.stringify(state)}\n`, 0o644, 'admin');
}
