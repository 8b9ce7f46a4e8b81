import type { StatusDocument } from './types.js';

/** One replica's lag at one sample; null where it could not be compared (down, other timeline). */
interface Point {
  readonly at: number;
  readonly lag: ReadonlyMap<string, { readonly bytes: number | null; readonly ms: number | null }>;
}

/** The chart's data: sample times (seconds, as uPlot takes them) and one series per replica. */
export interface LagSeries {
  readonly times: number[];
  readonly replicas: Array<{ readonly name: string; readonly bytes: Array<number | null>; readonly ms: Array<number | null> }>;
}

/**
 * The replicas' lag over the last `capacity` samples (900 = 15 minutes at one a second), kept in
 * a ring so a long-running console holds a fixed amount.
 */
export class LagHistory {
  readonly #points: Point[] = [];
  #next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive whole number, not ${capacity}`);
  }

  add(at: number, status: StatusDocument): void {
    const lag = new Map(status.nodes.filter((n) => n.role === 'replica').map((n) => [n.name, { bytes: n.lagBytes, ms: n.replayLagMs }]));
    if (this.#points.length < this.capacity) this.#points.push({ at, lag });
    else this.#points[this.#next] = { at, lag };
    this.#next = (this.#next + 1) % this.capacity;
  }

  get size(): number {
    return this.#points.length;
  }

  /** Oldest first, one series for every replica seen in the window (null before it existed). */
  series(): LagSeries {
    const ordered = this.#points.length < this.capacity ? this.#points : [...this.#points.slice(this.#next), ...this.#points.slice(0, this.#next)];
    const names = [...new Set(ordered.flatMap((p) => [...p.lag.keys()]))].sort();
    return {
      times: ordered.map((p) => p.at / 1000),
      replicas: names.map((name) => ({
        name,
        bytes: ordered.map((p) => p.lag.get(name)?.bytes ?? null),
        ms: ordered.map((p) => p.lag.get(name)?.ms ?? null),
      })),
    };
  }
}
