import { confLoadTime, isInRecovery, reloadConf, requestPromotion } from '../pg/queries.js';
import { withConnection, type Connector, type Queryable } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { waitFor } from '../util/wait.js';
import { writeServerFiles } from './configure.js';
import { reloadServer } from '../pg/server.js';
import { onInterrupt } from '../util/cleanup.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';

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
  /** The node already runs as a primary (see adopt.ts): everything but the promotion request. */
  readonly adopt?: boolean;
  /** Told each step's end (for tracing where a promotion's time goes). */
  readonly onStep?: (step: string) => void;
}

/**
 * Promotes a standby and returns once it accepts writes. `next` is the cluster as it will be, with
 * `node` its primary: the node's files are written for that (its synchronous quorum included) with
 * the short retry interval, and one connection reloads them and waits until its own session has
 * read them: the postmaster had then read them and signalled every process, the startup process
 * before the later promote request. (Which standbys count for the quorum is each walsender's own
 * reading; that a quorum is wanted at all is shared state the checkpointer keeps, already on
 * before when sync > 0, as failover and switchover keep `sync`.) Then it asks for promotion and
 * polls pg_is_in_recovery() every 2 ms (pg_promote(wait => true) checks only every 100 ms).
 */
export async function promote(next: Cluster, node: NodeSpec, options: PromoteOptions = {}): Promise<void> {
  const { via = withConnection, timeoutMs = 30_000, whileReloading, adopt = false, onStep = () => undefined } = options;
  const reset = (): Promise<void> => resetRetryInterval(next, node);
  const forgetReset = onInterrupt(reset);
  try {
    await writeServerFiles(next, node, { walRetrieveRetryInterval: PROMOTION_RETRY_INTERVAL });
    onStep('promote: files written');
    await via(adminTarget(next, node), async (db) => {
      const before = await reloadConf(db);
      await whileReloading?.(db);
      await waitFor(async () => ((await confLoadTime(db)) !== before ? true : undefined), {
        what: `${node.name} to load its rewritten configuration`,
        timeoutMs: 5000,
        intervalMs: 1,
      });
      onStep('promote: configuration loaded');
      if (!adopt) await requestPromotion(db);
      await waitFor(async () => ((await isInRecovery(db)) ? undefined : true), { what: `${node.name} to finish promotion`, timeoutMs, intervalMs: 2 });
    });
  } finally {
    forgetReset();
    await reset();
  }
}

/**
 * Puts the node's files back to what the spec says and has the server read them, by signal, so it
 * works while the server refuses connections. Never throws: it runs in `finally` and on interrupt,
 * where an error of its own would hide the one that matters; a file it cannot write is rewritten
 * from the spec by the next command that touches the node.
 */
async function resetRetryInterval(next: Cluster, node: NodeSpec): Promise<void> {
  try {
    await writeServerFiles(next, node);
    await reloadServer(instanceOf(next, node));
  } catch {
    /* see above */
  }
}
