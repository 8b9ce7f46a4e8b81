import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';

/** A writer whose acknowledged ids a scenario counts: the test Writer or the MultiHostWriter. */
export interface AckCounting {
  readonly acked: readonly number[];
}

function client(port: number, password: string, extra: pg.ClientConfig = {}): pg.Client {
  const c = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', ...extra });
  c.on('error', () => undefined);
  return c;
}

export async function createTable(port: number, password: string, table = 'writes'): Promise<void> {
  const c = client(port, password);
  await c.connect();
  await c.query(`CREATE TABLE ${table} (id int PRIMARY KEY)`);
  await c.end();
}

/** Counts acknowledged ids missing on the node at `port` (must be 0). */
export async function missing(port: number, password: string, acked: readonly number[], table = 'writes'): Promise<number> {
  const c = client(port, password);
  await c.connect();
  const { rows } = await c.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE id = ANY($1::int[])`, [acked]);
  await c.end();
  return acked.length - Number(rows[0]!.n);
}

/** Waits (bounded) until `writer` has `n` acknowledged ids; false when it did not in time. */
export async function waitForAcks(writer: AckCounting, n: number, timeoutMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (writer.acked.length < n && Date.now() < deadline) await sleep(5);
  return writer.acked.length >= n;
}

export interface Ack {
  readonly at: number;
  readonly port: number;
  /** When the session that committed it was opened (ms since epoch). */
  readonly sessionAt: number;
}

/** Between two rounds over every node that found no writable one, as a pool's retry does. */
const ROUND_PAUSE_MS = 10;

/**
 * A client on the multi-host URI `postgresql://h:p1,h:p2,h:p3/...?target_session_attrs=read-write`,
 * as libpq (and a pool on top of it) uses it: one session; after an error it opens a new one,
 * trying the nodes in order and keeping the first that is read-write (`SHOW transaction_read_only`,
 * as libpq asks); when none is, it tries again after ROUND_PAUSE_MS. node-postgres has no multi-host
 * URI, so this does what libpq does. Inserts sequential ids into `table` and records each
 * acknowledgement. Bounded by `maxMs` and `maxIds`.
 */
export class MultiHostWriter implements AckCounting {
  readonly acked: number[] = [];
  readonly ackedAt: Ack[] = [];
  /** Longest time between two acknowledged commits: the write gap the client saw. */
  maxGapMs = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(
    private readonly ports: readonly number[],
    private readonly password: string,
    private readonly firstId = 1,
    private readonly table = 'writes',
    private readonly maxMs = 120_000,
    private readonly maxIds = 10_000_000,
    /** A query (or connection attempt) is given up after this long, as a pool does. */
    private readonly timeoutMs = 1000,
  ) {}

  /**
   * When the first write was acknowledged on a session opened at or after `t` (so not by a backend
   * that outlived a crashed postmaster), from a node other than `exceptPort` if given.
   */
  firstAckAfter(t: number, exceptPort?: number): number | undefined {
    return this.ackedAt.find((a) => a.sessionAt >= t && a.port !== exceptPort)?.at;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  async #connect(deadline: number): Promise<pg.Client | undefined> {
    while (!this.#stopped && Date.now() < deadline) {
      for (const port of this.ports) {
        const c = client(port, this.password, { connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
        try {
          await c.connect();
          const { rows } = await c.query<{ transaction_read_only: string }>('SHOW transaction_read_only');
          if (rows[0]!.transaction_read_only === 'off') return c;
        } catch {
          /* down, starting, or refusing: the next host */
        }
        await c.end().catch(() => undefined);
      }
      await sleep(ROUND_PAUSE_MS);
    }
    return undefined;
  }

  async #run(): Promise<void> {
    const deadline = Date.now() + this.maxMs;
    let session: { c: pg.Client; at: number } | undefined;
    let lastAck = Date.now();
    for (let id = this.firstId; !this.#stopped && id < this.firstId + this.maxIds && Date.now() < deadline; id++) {
      if (!session) {
        const c = await this.#connect(deadline);
        if (!c) break;
        session = { c, at: Date.now() };
      }
      try {
        await session.c.query(`INSERT INTO ${this.table} (id) VALUES ($1)`, [id]);
        const now = Date.now();
        this.maxGapMs = Math.max(this.maxGapMs, now - lastAck);
        lastAck = now;
        this.acked.push(id);
        this.ackedAt.push({ at: now, port: session.c.port!, sessionAt: session.at });
      } catch {
        // Not acknowledged: the id may or may not have committed, and is not counted either way.
        await session.c.end().catch(() => undefined);
        session = undefined;
      }
    }
    await session?.c.end().catch(() => undefined);
  }
}
