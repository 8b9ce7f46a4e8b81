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
async function connect(target: ConnectionTarget, timeoutMs: number): Promise<pg.Client> {
  const client = new pg.Client({
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
    if (error instanceof PgreplError) throw error;
    const code = (error as { code?: string }).code;
    const where = targets.map(describe).join(', ');
    throw new PostgresQueryError(`query on ${where} failed: ${(error as Error).message}`, code, { cause: error });
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

/** withConnections for one server. */
export function withConnection<T>(target: ConnectionTarget, work: (db: Queryable) => Promise<T>, timeoutMs = 5000): Promise<T> {
  return withConnections([target], ([db]) => work(db!), timeoutMs);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
