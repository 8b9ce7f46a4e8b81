import { readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stopServer } from '../pg/server.js';
import { SPEC_FILE } from '../spec/file.js';
import { primaryOf, replicasOf } from '../spec/topology.js';
import { instanceOf, type Cluster } from './context.js';
import { LOCK_FILE } from './lock.js';
import { readNodeState } from './node-state.js';
import { runningServerEvidence } from '../pg/stray.js';
import type { OnEvent } from './events.js';
import { NotAClusterError } from './errors.js';

export interface DownResult {
  readonly stopped: readonly string[];
  readonly destroyed: boolean;
}

/**
 * Stops every node with a fast shutdown, primary first: its shutdown checkpoint then reaches the
 * replicas, so a later `up` finds them caught up.
 */
export async function down(cluster: Cluster, onEvent: OnEvent): Promise<string[]> {
  const stopped: string[] = [];
  const primary = primaryOf(cluster.spec);
  for (const group of [[primary], replicasOf(cluster.spec)]) {
    await Promise.all(
      group.map(async (node) => {
        onEvent({ type: 'step', node: node.name, message: 'stopping (fast shutdown)' });
        if (await stopServer(instanceOf(cluster, node), 'fast')) stopped.push(node.name);
      }),
    );
  }
  return stopped;
}

interface Marker {
  readonly createdDir: boolean;
}

/** Removes the node directories pgrepl built (they have a build state) and that run no server; returns the rest. */
async function removeOwnNodes(cluster: Cluster): Promise<string[]> {
  const nodesDir = cluster.layout.nodesDir;
  const kept: string[] = [];
  for (const name of await readdir(nodesDir).catch(() => [] as string[])) {
    const ours = (await readNodeState(cluster.layout, name)) !== null;
    const running = (await runningServerEvidence(join(nodesDir, name, 'data'))) !== null;
    if (ours && !running) await cluster.layout.removeTree(join(nodesDir, name));
    else kept.push(join(nodesDir, name));
  }
  if (kept.length === 0) await cluster.layout.removeTree(nodesDir);
  return kept;
}

/**
 * Deletes a stopped cluster, only what pgrepl made: node directories it built, its secrets, spec
 * and marker, and the directory itself when pgrepl created it and nothing else is left in it.
 * Returns what it left (a node directory pgrepl did not build, or one with a server running).
 */
export async function destroy(cluster: Cluster): Promise<string[]> {
  const { layout } = cluster;
  let marker: Marker;
  try {
    marker = JSON.parse(await layout.readFile(layout.marker)) as Marker;
  } catch {
    throw new NotAClusterError(`${layout.root} has no pgrepl marker (.pgrepl-cluster), so pgrepl did not create it and will not delete it`, {
      hint: 'delete it yourself if you are sure',
    });
  }
  const kept = await removeOwnNodes(cluster);
  for (const entry of ['state', 'secrets', 'agents', 'dcs', SPEC_FILE, '.pgrepl-cluster', LOCK_FILE]) {
    await layout.removeTree(join(layout.root, entry));
  }
  if (marker.createdDir && (await readdir(layout.root)).length === 0) await rmdir(layout.root);
  return kept;
}
