import pg from 'pg';
import { PgreplError } from '../errors.js';

/** The subset of a pg client that queries need: lets queries run on a Client, a Pool, or a fake. */
export interface Queryable {
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[] }>;
}

export interface ConnectionTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database?: string;
}

/** The server did not accept a connection (down, starting, or refusing us). */
export class PostgresUnreachableError extends PgreplError {}

/** A query failed on a reachable server; `code` is the SQLSTATE. */
export class PostgresQueryError extends PgreplError {
  constructor(message: string, readonly code: string | undefined, options: { cause?: unknown } = {}) {
    super(message, options);
  }
}

function describe(target: ConnectionTarget): string {
  return `${target.host}:${target.port}`;
}

/** A connected client; a refused or timed-out connection becomes a PostgresUnreachableError. */
async function connect(target: ConnectionTarget, timeoutMs: number, queryTimeoutMs?: number): Promise<pg.Client> {
  const client = new pg.Client({
    ...(queryTimeoutMs === undefined ? {} : { query_timeout: queryTimeoutMs }),
    host: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database ?? 'postgres',
    application_name: 'pgrepl',
    // pgrepl's own writes (role, probe) must not wait for synchronous standbys that may not exist yet.
    options: '-c synchronous_commit=local',
    connectionTimeoutMillis: timeoutMs,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new PostgresUnreachableError(`cannot connect to ${describe(target)}: ${(error as Error).message}`, { cause: error });
  }
}

/** A failed query as a PostgresQueryError carrying the SQLSTATE; pgrepl's own errors pass through. */
function queryError(targets: readonly ConnectionTarget[], error: unknown): Error {
  if (error instanceof PgreplError) return error;
  const code = (error as { code?: string }).code;
  return new PostgresQueryError(`query on ${targets.map(describe).join(', ')} failed: ${(error as Error).message}`, code, { cause: error });
}

/**
 * Opens one connection per target (in parallel), runs `work`, and always closes them. The one
 * place pgrepl speaks SQL to a server; the password travels in the protocol's SCRAM exchange only.
 * A failed query becomes a PostgresQueryError carrying the SQLSTATE.
 */
export async function withConnections<T>(targets: readonly ConnectionTarget[], work: (dbs: Queryable[]) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const opened = await Promise.allSettled(targets.map((t) => connect(t, timeoutMs)));
  const clients = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
  try {
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return await work(clients as unknown as Queryable[]);
  } catch (error) {
    throw queryError(targets, error);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** withConnections for one server. */
export function withConnection<T>(target: ConnectionTarget, work: (db: Queryable) => Promise<T>, timeoutMs = 5000): Promise<T> {
  return withConnections([target], ([db]) => work(db!), timeoutMs);
}

/** How an operation reaches a server: a fresh connection per use (withConnection), or a held one (Sessions). */
export type Connector = <T>(target: ConnectionTarget, work: (db: Queryable) => Promise<T>, timeoutMs?: number) => Promise<T>;

/**
 * Connections held open for the length of one operation, one per server (and user and database),
 * opened on first use. A failover speaks to the same few servers at every step of its critical
 * path, where a SCRAM handshake per step would cost more than the promotion itself. Callers sharing
 * a session must not hold a transaction open across awaits. A `timeoutMs` given to `with` bounds
 * the connection attempt, when it is the one that opens it; every query is bounded by
 * QUERY_TIMEOUT_MS, so a server that stops answering cannot hold the operation forever.
 */
export class Sessions {
  static readonly QUERY_TIMEOUT_MS = 30_000;
  readonly #clients = new Map<string, Promise<pg.Client>>();

  /** A Connector over these sessions: `work` runs on the held connection, which stays open. */
  readonly with: Connector = async (target, work, timeoutMs = 5000) => {
    const client = await this.#client(target, timeoutMs);
    try {
      return await work(client as unknown as Queryable);
    } catch (error) {
      throw queryError([target], error);
    }
  };

  #client(target: ConnectionTarget, timeoutMs: number): Promise<pg.Client> {
    const key = `${target.host}:${target.port}:${target.user}:${target.database ?? 'postgres'}`;
    let client = this.#clients.get(key);
    if (!client) {
      const opening = connect(target, timeoutMs, Sessions.QUERY_TIMEOUT_MS);
      client = opening;
      this.#clients.set(key, opening);
      // Neither a refused nor a closed connection is kept: the server may be (re)started later in the operation.
      const forget = (): void => {
        if (this.#clients.get(key) === opening) this.#clients.delete(key);
      };
      opening.then((c) => c.once('end', forget), forget);
    }
    return client;
  }

  async close(): Promise<void> {
    const all = [...this.#clients.values()];
    this.#clients.clear();
    await Promise.all(all.map((c) => c.then((client) => client.end()).catch(() => undefined)));
  }
}

/** Runs `work` with held sessions and closes them all afterwards, whatever happens. */
export async function withSessions<T>(work: (sessions: Sessions) => Promise<T>): Promise<T> {
  const sessions = new Sessions();
  try {
    return await work(sessions);
  } finally {
    await sessions.close();
  }
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
