/**
 * How one etcd client judges the leader key's expiry on its own monotonic clock (see etcd.ts): a
 * TTL after it first saw the key's current revision, provided it kept the key in sight. Pure
 * bookkeeping over the reads and writes it is told of; the clock is injected.
 */
interface Observation {
  readonly revision: string;
  /** When this revision was first seen (or written by us). */
  readonly at: number;
  /** Last read that still showed it. */
  readonly seen: number;
  /** The TTL to count: the larger of ours and the one the key's lease was granted. */
  readonly ttlMs: number;
}

export class LeaderSight {
  #observed: Observation | null = null;

  constructor(private readonly clock: () => number) {}

  /** We wrote the key (acquire, renew): its new revision counts from now. */
  wrote(revision: string | undefined, ttlMs: number): void {
    const now = this.clock();
    this.#observed = revision ? { revision, at: now, seen: now, ttlMs } : null;
  }

  /** The key is absent. */
  gone(): void {
    this.#observed = null;
  }

  /**
   * A read showed the key at `revision`; `ttlMs` is asked only for a revision new to us. A key
   * out of sight for a TTL (etcd unreachable, where nobody could renew and a failsafe primary kept
   * running) counts afresh, as a revision seen for the first time. True when it now stands
   * unrenewed for a TTL.
   */
  async saw(revision: string, ttlMs: () => Promise<number>): Promise<boolean> {
    const now = this.clock();
    const last = this.#observed;
    if (last?.revision !== revision || now - last.seen > last.ttlMs) this.#observed = { revision, at: now, seen: now, ttlMs: await ttlMs() };
    else this.#observed = { ...last, seen: now };
    return this.unrenewed();
  }

  /** We watched the key stand at one revision, without losing sight of it, for a TTL. */
  unrenewed(): boolean {
    const o = this.#observed;
    const now = this.clock();
    return o !== null && now - o.seen <= o.ttlMs && now - o.at >= o.ttlMs;
  }

  /** The revision we may take the key over from (compare-and-swap), when it stands unrenewed. */
  staleRevision(): string | null {
    return this.unrenewed() ? this.#observed!.revision : null;
  }

  /** How long until it would stand unrenewed for a TTL; null when not observed. */
  remainingMs(): number | null {
    const o = this.#observed;
    return o === null ? null : Math.max(0, Math.round(o.at + o.ttlMs - this.clock()));
  }

  /** The TTL counted for the current revision. */
  get ttlMs(): number | null {
    return this.#observed?.ttlMs ?? null;
  }
}
