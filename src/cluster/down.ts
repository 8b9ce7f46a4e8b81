import { readFile, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stopServer } from '../pg/server.js';
import { SPEC_FILE } from '../spec/file.js';
import { primaryOf, replicasOf } from '../spec/topology.js';
import { instanceOf, type Cluster } from './context.js';
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

/**
 * Deletes a stopped cluster: only a directory pgrepl created (it carries pgrepl's marker). When
 * the directory existed before, only pgrepl's entries in it go and the directory stays.
 */
export async function destroy(cluster: Cluster): Promise<void> {
  const { layout } = cluster;
  let marker: Marker;
  try {
    marker = JSON.parse(await readFile(layout.marker, 'utf8')) as Marker;
  } catch {
    throw new NotAClusterError(`${layout.root} has no pgrepl marker (.pgrepl-cluster), so pgrepl did not create it and will not delete it`, {
      hint: 'delete it yourself if you are sure',
    });
  }
  for (const entry of ['nodes', 'secrets', SPEC_FILE, '.pgrepl-cluster']) {
    await rm(join(layout.root, entry), { recursive: true, force: true });
  }
  if (marker.createdDir && (await readdir(layout.root)).length === 0) await rmdir(layout.root);
}
