import { reloadConf } from '../pg/queries.js';
import { isRunning } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';

/**
 * Rewrites every node's pgrepl-owned files from the spec and reloads the running nodes whose files
 * changed. Used whenever the topology changes what a node must know (synchronous_standby_names,
 * the nodes pg_hba.conf admits).
 */
export async function applyConfig(cluster: Cluster): Promise<string[]> {
  const reloaded: string[] = [];
  await Promise.all(
    cluster.spec.nodes.map(async (node) => {
      if (!(await writeServerFiles(cluster, node))) return;
      if (!(await isRunning(instanceOf(cluster, node)))) return;
      await withConnection(adminTarget(cluster, node), reloadConf);
      reloaded.push(node.name);
    }),
  );
  return reloaded;
}
