import pg from 'pg';
import type { Socket } from 'node:net';
import { withDeadline } from '../../src/util/wait.js';

/**
 * Closes a connection as a pool does a broken one: a polite end, but not waiting past 500 ms for
 * a server that cannot answer (cut off by the network, frozen): then the socket is destroyed.
 */
async function drop(client: pg.Client): Promise<void> {
  const ended = await withDeadline(client.end().then(() => true, () => true), 500, false);
  if (!ended) (client as unknown as { connection?: { stream?: Socket } }).connection?.stream?.destroy();
}

/**
 * A client that inserts sequential ids into `table` on whichever node is the primary, reconnecting
 * across nodes when its connection breaks, and records which ids the server acknowledged. Bounded:
 * it stops by itself after `maxMs` or `maxIds`, whichever comes first.
 */
export class Writer {
  readonly acked: number[] = [];
  /** When (ms since epoch) and by which port each id was acknowledged, in the same order. */
  readonly ackedAt: Array<{ readonly at: number; readonly port: number; readonly host: string }> = [];
  /** Longest time between two acknowledged commits: the write gap a client saw. */
  maxGapMs = 0;
  /** What it is doing now (for a test's failure message). */
  phase = 'idle';
  /** The last answer of each node to the primary search (for a test's failure message). */
  readonly answers: string[] = [];
  #stopped = false;
  readonly #probes = new Map<number, pg.Client>();
  #loop: Promise<void> | undefined;

  constructor(
    private readonly ports: readonly number[],
    private readonly password: string,
    private readonly table = 'writes',
    private readonly maxMs = 60_000,
    private readonly maxIds = 200_000,
    /** First id to insert; writers that share a table must not overlap. */
    private readonly firstId = 1,
    /** Give up on a query (and a connection attempt, 1 s at least) after this long, as a pool does with a frozen server (0: wait forever). */
    private readonly queryTimeoutMs = 0,
    /** The address of each of `ports` (default 127.0.0.1 for all). */
    private readonly hosts: readonly string[] = [],
  ) {}

  /** Time of the first acknowledgement at or after `t` from a node other than `exceptPort`. */
  firstAckAfter(t: number, exceptPort: number): number | undefined {
    return this.ackedAt.find((a) => a.at >= t && a.port !== exceptPort)?.at;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }

  /**
   * Finds the primary by polling pg_is_in_recovery() over one held connection per node, every 2 ms.
   * A fresh connection per poll (fork, SCRAM) would load the 2 CPUs the failover under test runs
   * on, and would notice a promotion only a handshake or two late.
   */
  async #connectToPrimary(deadline: number): Promise<pg.Client | undefined> {
    while (!this.#stopped && Date.now() < deadline) {
      for (const node of this.ports.keys()) {
        this.phase = `opening a connection to node ${node}`;
        const probe = await this.#probe(node);
        if (!probe) continue;
        try {
          this.phase = `asking node ${node} pg_is_in_recovery()`;
          const { rows } = await probe.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
          this.answers[node] = `in recovery: ${rows[0]!.r}`;
          if (!rows[0]!.r) {
            this.#probes.delete(node); // it becomes the writing connection
            return probe;
          }
        } catch (error) {
          this.answers[node] = `query failed: ${(error as Error).message}`;
          this.#probes.delete(node);
          this.phase = `dropping the connection to node ${node}`;
          await drop(probe);
        }
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return undefined;
  }

  /** The held connection to node `node` (an index into ports), opened if there is none; undefined while it refuses. */
  async #probe(node: number): Promise<pg.Client | undefined> {
    const held = this.#probes.get(node);
    if (held) return held;
    const client = new pg.Client({
      host: this.hosts[node] ?? '127.0.0.1', port: this.ports[node]!, user: 'postgres', password: this.password, database: 'postgres', connectionTimeoutMillis: Math.max(1000, this.queryTimeoutMs),
      ...(this.queryTimeoutMs > 0 ? { query_timeout: this.queryTimeoutMs } : {}),
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      this.#probes.set(node, client);
      return client;
    } catch (error) {
      this.answers[node] = `connection failed: ${(error as Error).message}`;
      await drop(client);
      return undefined;
    }
  }

  async #run(): Promise<void> {
    const deadline = Date.now() + this.maxMs;
    let client: pg.Client | undefined;
    let lastAck = Date.now();
    for (let id = this.firstId; !this.#stopped && id < this.firstId + this.maxIds && Date.now() < deadline; id++) {
      client ??= await this.#connectToPrimary(deadline);
      if (!client) break;
      try {
        this.phase = `inserting ${id}`;
        await client.query(`INSERT INTO ${this.table} (id) VALUES ($1)`, [id]);
        const now = Date.now();
        this.maxGapMs = Math.max(this.maxGapMs, now - lastAck);
        lastAck = now;
        this.acked.push(id);
        this.ackedAt.push({ at: now, port: client.port!, host: client.host });
      } catch {
        // Not acknowledged: the id may or may not have committed, and is not counted either way.
        this.phase = `dropping the writing connection`;
        await drop(client);
        client = undefined;
      }
    }
    if (client) await drop(client);
    await Promise.all([...this.#probes.values()].map(drop));
    this.#probes.clear();
  }
}
