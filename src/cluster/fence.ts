import { serverProcessesGone } from '../pg/postmaster-pid.js';
import { isRunning, stopServer } from '../pg/server.js';
import { waitFor } from '../util/wait.js';
import type { NodeSpec } from '../spec/schema.js';
import { instanceOf, type Cluster } from './context.js';
import { writeNodeState } from './node-state.js';

/**
 * Makes sure a lost primary can never accept writes again on its own: its postmaster, if any, gets
 * an immediate shutdown, and its build state becomes `diverged`, so `up` will not start it until
 * `pgrepl rejoin` has rewound it into a replica.
 */
export async function fence(cluster: Cluster, node: NodeSpec, options: { recloneOnly?: true } = {}): Promise<{ wasRunning: boolean }> {
  const instance = instanceOf(cluster, node);
  const wasRunning = await isRunning(instance);
  await writeNodeState(cluster.layout, node.name, { phase: 'diverged', since: new Date().toISOString(), ...options });
  if (wasRunning) await stopServer(instance, 'immediate', 15_000);
  // A killed postmaster's backends and walsenders outlive it briefly; until they are gone they can
  // still ship WAL to a replica or acknowledge a commit, so candidates are compared only after.
  await waitFor(async () => ((await serverProcessesGone(instance.dataDir)) ? true : undefined), {
    what: `the processes of ${node.name}'s dead postmaster to exit`,
    timeoutMs: 15_000,
    intervalMs: 5,
  });
  return { wasRunning };
}
