import { isInRecovery, requestPromotion } from '../pg/queries.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';

/**
 * Promotes a standby and returns once it accepts writes. One connection asks and then polls
 * pg_is_in_recovery() every 2 ms; promotion replays whatever WAL the standby already received first.
 */
export async function promote(cluster: Cluster, node: NodeSpec, timeoutMs = 30_000): Promise<void> {
  await withConnection(adminTarget(cluster, node), async (db) => {
    await requestPromotion(db);
    await waitFor(async () => ((await isInRecovery(db)) ? undefined : true), { what: `${node.name} to finish promotion`, timeoutMs, intervalMs: 2 });
  });
}
