import { confLoadTime, isInRecovery, reloadConf, requestPromotion } from '../pg/queries.js';
import { withConnection, type Connector, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { waitFor } from '../util/wait.js';
import { writeServerFiles } from './configure.js';
import { adminTarget, type Cluster } from './context.js';

/**
 * While a standby's upstream is unreachable, PostgreSQL (15 at least) can notice a promote request
 * inside its streaming wait and then still sleep out the rest of wal_retrieve_retry_interval (5 s by
 * default) before it ends recovery. For the promotion only, the interval is made tiny; it is reset
 * afterwards, so a standby waiting for a dead primary does not retry (and log) every millisecond.
 * It goes into pgrepl.conf, not through ALTER SYSTEM: a plain file write, where ALTER SYSTEM fsyncs
 * postgresql.auto.conf, on the way in and out.
 */
const PROMOTION_RETRY_INTERVAL = '1ms';

export interface PromoteOptions {
  readonly via?: Connector;
  readonly timeoutMs?: number;
  /** Work for the promoting connection while its reload lands, done before the promotion is asked for. */
  readonly whileReloading?: (db: Queryable) => Promise<void>;
}

/**
 * Promotes a standby and returns once it accepts writes. `next` is the cluster as it will be, with
 * `node` its primary: the node's files are written for that (its synchronous quorum included) with
 * the short retry interval, and one connection reloads them and waits until the reload has landed
 * (a reload is a signal, it lands asynchronously), so the new primary enforces its quorum from its
 * first commit; then it asks for promotion and polls pg_is_in_recovery() every 2 ms
 * (pg_promote(wait => true) checks only every 100 ms).
 */
export async function promote(next: Cluster, node: NodeSpec, options: PromoteOptions = {}): Promise<void> {
  const { via = withConnection, timeoutMs = 30_000, whileReloading } = options;
  const target = adminTarget(next, node);
  await writeServerFiles(next, node, { walRetrieveRetryInterval: PROMOTION_RETRY_INTERVAL });
  try {
    await via(target, async (db) => {
      const before = await reloadConf(db);
      await whileReloading?.(db);
      await waitFor(async () => ((await confLoadTime(db)) !== before ? true : undefined), {
        what: `${node.name} to load its rewritten configuration`,
        timeoutMs: 5000,
        intervalMs: 1,
      });
      await requestPromotion(db);
      await waitFor(async () => ((await isInRecovery(db)) ? undefined : true), { what: `${node.name} to finish promotion`, timeoutMs, intervalMs: 2 });
    });
  } finally {
    await writeServerFiles(next, node);
    await via(target, reloadConf).catch(() => undefined); // a server that cannot be reached reads its files when it starts
  }
}
