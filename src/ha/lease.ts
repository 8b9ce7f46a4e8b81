import type { Dcs } from './dcs/dcs.js';

/** Monotonic milliseconds; injected so lease timing is tested without waiting. */
export type Clock = () => number;

export const monotonic: Clock = () => performance.now();

/**
 * This agent's side of the leader lease. It counts the lease as valid from the moment it *asked*
 * for a renewal (the store starts the TTL later than that), and arms a watchdog that fences the
 * node `marginMs` before that deadline unless a renewal lands first: the loop may be stuck in a
 * slow step, but the timer still fires, so the primary is stopped before another node can be
 * promoted.
 */
export class LeaseKeeper {
  #deadline: number | null = null;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(
    private readonly dcs: Dcs,
    private readonly me: string,
    private readonly clock: Clock,
    private readonly marginMs: number,
    private readonly onExpiring: () => void,
  ) {}

  /** Until when this agent may act as the holder, or null. */
  get deadline(): number | null {
    return this.#deadline;
  }

  /** When the watchdog fences unless a renewal lands first, or null. */
  get fencesAt(): number | null {
    return this.#deadline === null ? null : this.#deadline - this.marginMs;
  }

  async acquire(): Promise<boolean> {
    const asked = this.clock();
    const won = await this.dcs.acquireLeader(this.me);
    if (won) this.#extend(asked);
    return won;
  }

  async renew(): Promise<boolean> {
    const asked = this.clock();
    const kept = await this.dcs.renewLeader(this.me);
    if (kept) this.#extend(asked);
    else this.forget();
    return kept;
  }

  /**
   * Failsafe: the DCS is away, and every peer's agent confirmed (after `asked`) that it cannot
   * reach it either, so none can take the key: the holder may act as one for another TTL.
   */
  keepWithoutDcs(asked: number): void {
    if (this.#deadline !== null) this.#extend(asked);
  }

  async release(): Promise<void> {
    this.forget();
    await this.dcs.releaseLeader(this.me);
  }

  /** The lease is not ours (any more): no deadline, no watchdog. */
  forget(): void {
    this.#deadline = null;
    clearTimeout(this.#watchdog);
  }

  #extend(asked: number): void {
    this.#deadline = asked + this.dcs.ttlMs;
    clearTimeout(this.#watchdog);
    const fireIn = Math.max(0, this.#deadline - this.marginMs - this.clock());
    this.#watchdog = setTimeout(() => this.onExpiring(), fireIn);
    this.#watchdog.unref();
  }
}
