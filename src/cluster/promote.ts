import { currentSetting, isInRecovery, reloadConf, requestPromotion } from '../pg/queries.js';
import { withConnection, type Connector, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { waitFor } from '../util/wait.js';
import { adminTarget, type Cluster } from './context.js';

/**
 * While a standby's upstream is unreachable, PostgreSQL (15 at least) can notice a promote request
 * inside its streaming wait and then still sleep out the rest of wal_retrieve_retry_interval (5 s by
 * default) before it ends recovery. For the promotion only, the interval is made tiny; it is reset
 * afterwards, so a standby waiting for a dead primary does not retry (and log) every millisecond.
 */
const PROMOTION_RETRY_INTERVAL = '1ms';

/**
 * Promotes a standby and returns once it accepts writes. One connection does it all: it loads the
 * node's rewritten configuration and the short retry interval and waits until both show (a reload
 * is a signal, it lands asynchronously), so the new primary enforces `synchronousStandbyNames`
 * from its first commit; then asks for promotion and polls pg_is_in_recovery() every 2 ms
 * (pg_promote(wait => true) checks only every 100 ms).
 */
export async function promote(cluster: Cluster, node: NodeSpec, synchronousStandbyNames: string, via: Connector = withConnection, timeoutMs = 30_000): Promise<void> {
  await via(adminTarget(cluster, node), async (db) => {
    await db.query(`ALTER SYSTEM SET wal_retrieve_retry_interval = '${PROMOTION_RETRY_INTERVAL}'`);
    try {
      await reloadAndWait(db, [['synchronous_standby_names', synchronousStandbyNames], ['wal_retrieve_retry_interval', PROMOTION_RETRY_INTERVAL]]);
      await requestPromotion(db);
      await waitFor(async () => ((await isInRecovery(db)) ? undefined : true), { what: `${node.name} to finish promotion`, timeoutMs, intervalMs: 2 });
    } finally {
      await db.query('ALTER SYSTEM RESET wal_retrieve_retry_interval');
      await reloadConf(db);
    }
  });
}

async function reloadAndWait(db: Queryable, settings: ReadonlyArray<readonly [string, string]>): Promise<void> {
  await reloadConf(db);
  await waitFor(
    async () => {
      for (const [name, value] of settings) if ((await currentSetting(db, name)) !== value) return undefined;
      return true;
    },
    { what: `the reloaded configuration (${settings.map(([n]) => n).join(', ')}) to take effect`, timeoutMs: 5000, intervalMs: 1 },
  );
}
