import { currentSetting, isInRecovery, reloadConf, requestPromotion} from '../pg/queries.js';
import { withConnection, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';

/**
 * Promotes a standby and returns once it accepts writes. One connection asks and then polls
 * pg_is_in_recovery() every 2 ms; promotion replays whatever WAL the standby already received first.
 * With `reloadFirst`, its rewritten pgrepl.conf is loaded (and seen to be) before it is promoted.
 */
export async function promote(cluster: Cluster, node: NodeSpec, options: { reloadFirst?: string } = {}, timeoutMs = 30_000): Promise<void> {
  await withConnection(adminTarget(cluster, node), async (db) => {
    if (options.reloadFirst !== undefined) await reloadAndWait(db, options.reloadFirst);
    await requestPromotion(db);
    await waitFor(async () => ((await isInRecovery(db)) ? undefined : true), { what: `${node.name} to finish promotion`, timeoutMs, intervalMs: 2 });
  });
}

/**
 * Reloads the configuration and waits until it shows `synchronousStandbyNames`, so the promoted
 * node enforces the quorum from its first commit: the reload is a signal and lands asynchronously.
 */
async function reloadAndWait(db: Queryable, synchronousStandbyNames: string): Promise<void> {
  await reloadConf(db);
  await waitFor(async () => ((await currentSetting(db, 'synchronous_standby_names')) === synchronousStandbyNames ? true : undefined), {
    what: 'the new synchronous_standby_names to take effect',
    timeoutMs: 5000,
    intervalMs: 1,
  });
}
