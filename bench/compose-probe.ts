import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** One attempt's outcome: the value, or why there is none yet. */
export type Attempt<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/**
 * Deadlines for one probe through Docker's published port. The connection deadline is generous:
 * on a loaded 2-core machine a handshake through docker-proxy, a backend fork and SCRAM can take
 * more than a second, and a 1 s deadline then fails every attempt however long the bench waits.
 */
const CONNECT_MS = 5_000;
const STATEMENT_MS = 10_000;

/**
 * Runs `statements` one by one over one connection as the postgres role; the first column of the
 * last statement's first row ('' when it returns no row). Never throws: a failure is the error's
 * code and message (a reset while the container has no TCP listener yet is the usual one).
 */
export async function probeQuery(port: number, password: string, statements: readonly string[]): Promise<Attempt<string>> {
  const client = new pg.Client({
    host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres',
    connectionTimeoutMillis: CONNECT_MS, statement_timeout: STATEMENT_MS, query_timeout: STATEMENT_MS + 5_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    let last = '';
    for (const statement of statements) {
      const { rows } = await client.query(statement);
      last = rows.length ? String(Object.values(rows[0] as Record<string, unknown>)[0]) : '';
    }
    return { ok: true, value: last };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return { ok: false, error: `${e.code ? `${e.code} ` : ''}${e.message ?? String(error)}`.trim() };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The value when the attempt gave `wanted`, else a failure saying what it gave. */
export function expect(attempt: Attempt<string>, wanted: string): Attempt<string> {
  return !attempt.ok || attempt.value === wanted ? attempt : { ok: false, error: `got '${attempt.value || '(no row)'}', wanted '${wanted}'` };
}

/** How often each kind of failure was seen (codes and messages, digits masked so ports and pids group). */
export function tally(errors: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const error of errors) {
    const key = error.replace(/\d+/g, 'N').slice(0, 80);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n}x ${k}`).join('; ');
}

export class WaitTimeoutError extends Error {}

/**
 * Repeats `attempt` every `intervalMs` until it succeeds, or throws, after `timeoutMs`, an error
 * naming what was awaited, the last failure and a tally of all of them. `describe` adds the
 * engine's view (`docker compose ps`, logs) to that error.
 */
export async function until<T>(attempt: () => Promise<Attempt<T>>, what: string, timeoutMs: number,
  describe: () => Promise<string> = async () => '', intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  const errors: string[] = [];
  for (;;) {
    const result = await attempt();
    if (result.ok) return result.value;
    errors.push(result.error);
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(`timed out after ${timeoutMs / 1000} s waiting for ${what}: ${errors.length} attempts, the last: ${result.error}\n`
        + `  seen: ${tally(errors)}\n${await describe().catch((e: Error) => `  (no engine view: ${e.message})`)}`);
    }
    await sleep(intervalMs);
  }
}

/** A condition on local state (no query), as an attempt. */
export function when<T>(value: () => T | undefined, why: () => string): () => Promise<Attempt<T>> {
  return async () => {
    const v = value();
    return v === undefined ? { ok: false, error: why() } : { ok: true, value: v };
  };
}
