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

/**
 * Opens one connection, runs `work`, and always closes it. The one place pgrepl speaks SQL to a
 * server; the password travels in the protocol's SCRAM exchange only.
 */
export async function withConnection<T>(target: ConnectionTarget, work: (db: Queryable) => Promise<T>, timeoutMs = 5000): Promise<T> {
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
  } catch (error) {
    await client.end().catch(() => undefined);
    throw new PostgresUnreachableError(`cannot connect to ${describe(target)}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await work(client as unknown as Queryable);
  } catch (error) {
    if (error instanceof PgreplError) throw error;
    const code = (error as { code?: string }).code;
    throw new PostgresQueryError(`query on ${describe(target)} failed: ${(error as Error).message}`, code, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** withConnection for several servers at once: one connection each, nested, all closed after. */
export function withConnections<T>(targets: readonly ConnectionTarget[], work: (dbs: Queryable[]) => Promise<T>, timeoutMs = 5000): Promise<T> {
  const open = (i: number, dbs: Queryable[]): Promise<T> =>
    i === targets.length ? work(dbs) : withConnection(targets[i]!, (db) => open(i + 1, [...dbs, db]), timeoutMs);
  return open(0, []);
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
