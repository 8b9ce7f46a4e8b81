import { configuredUpstream, serverPosition, type ServerPosition } from '../pg/queries.js';
import { PostgresUnreachableError, Sessions, type Queryable } from '../pg/sql.js';
import { isRunning } from '../pg/server.js';
import type { NodeSpec } from '../spec/schema.js';
import { adminTarget, instanceOf, type Cluster } from '../cluster/context.js';

/** How long one look at the agent's own server may take before it counts as not answering. */
const LOOK_TIMEOUT_MS = 1000;

export interface OwnPosition extends ServerPosition {
  /** Where primary_conninfo points (a standby), as host and port. */
  readonly configuredHost: string | null;
  readonly configuredPort: number | null;
}

/**
 * The agent's one held connection to its own PostgreSQL. The loop and the REST API both read
 * through it, one at a time (a pg client must not run two queries at once), and a connection that
 * broke is reopened on the next use.
 */
export class OwnServer {
  readonly #sessions = new Sessions();
  #queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly cluster: () => Cluster,
    private readonly node: NodeSpec,
  ) {}

  running(): Promise<boolean> {
    return isRunning(instanceOf(this.cluster(), this.node));
  }

  /**
   * Runs `work` on the held connection, after any earlier use has finished, within `timeoutMs`: a
   * server that stops answering (frozen, overloaded) must not stall the agent's loop, so past the
   * deadline the connection is dropped and the call fails.
   */
  use<T>(work: (db: Queryable) => Promise<T>, timeoutMs = LOOK_TIMEOUT_MS): Promise<T> {
    const run = this.#queue.then(() => this.#bounded(work, timeoutMs));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #bounded<T>(work: (db: Queryable) => Promise<T>, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        void this.#sessions.close();
        reject(new PostgresUnreachableError(`${this.node.name} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      return await Promise.race([this.#sessions.with(adminTarget(this.cluster(), this.node), work, timeoutMs), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Role, timeline and positions, plus the configured upstream of a standby. */
  position(): Promise<OwnPosition> {
    return this.use(async (db) => {
      const position = await serverPosition(db);
      const configured = position.inRecovery ? await configuredUpstream(db) : { host: null, port: null };
      return { ...position, configuredHost: configured.host, configuredPort: configured.port };
    });
  }

  /** Drops the held connection (the server is being stopped or restarted). */
  async reset(): Promise<void> {
    await this.#sessions.close();
  }

  close(): Promise<void> {
    return this.#sessions.close();
  }
}
