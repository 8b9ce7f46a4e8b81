import { changes, type PendingMove } from './changes.js';
import { LagHistory, type LagSeries } from './history.js';
import type { ConsoleEvent, StatusDocument } from './types.js';

/** One look at the cluster: the status document and the slot cap it is measured against. */
export interface Sample {
  readonly at: number;
  readonly status: StatusDocument;
  readonly slotCapBytes: number;
  /** When this console first saw each running node running (since it last saw it down). */
  readonly seenUpSince: Readonly<Record<string, number>>;
}

/** What the page receives over the live stream. */
export type Message =
  | { readonly type: 'sample'; readonly sample: Sample }
  | { readonly type: 'event'; readonly event: ConsoleEvent };

/** What a page gets on connecting, before the live messages. */
export interface Snapshot {
  readonly latest: Sample | null;
  readonly history: LagSeries;
  readonly events: readonly ConsoleEvent[];
  readonly actions: { readonly haPauseResume: boolean };
}

const EVENTS_KEPT = 500;

/**
 * The console's memory: the last sample, the lag history, the event log, and the pages listening.
 * Everything in it is bounded (history and log are rings), so a console left open for days holds
 * what it held after its first quarter hour.
 */
export class ConsoleState {
  latest: Sample | null = null;
  readonly history: LagHistory;
  readonly #events: ConsoleEvent[] = [];
  readonly #listeners = new Set<(message: Message) => void>();
  #pendingMove: PendingMove | null = null;
  /** Set by the action runner while this console runs a switchover: a move then is one. */
  switchingOver = false;

  constructor(historySamples: number, readonly haPauseResume: boolean) {
    this.history = new LagHistory(historySamples);
  }

  /** Takes a new sample: history, the events it implies, then every listener. */
  record(look: Omit<Sample, 'seenUpSince'>): void {
    const before = this.latest?.status ?? null;
    const seenUpSince: Record<string, number> = {};
    for (const node of look.status.nodes.filter((n) => n.running)) seenUpSince[node.name] = this.latest?.seenUpSince[node.name] ?? look.at;
    const sample: Sample = { ...look, seenUpSince };
    this.latest = sample;
    this.history.add(sample.at, sample.status);
    this.#publish({ type: 'sample', sample });
    const { events, pending } = changes(before, sample.status, sample.at, this.#pendingMove, this.switchingOver);
    this.#pendingMove = pending;
    for (const event of events) this.log(event);
  }

  log(event: ConsoleEvent): void {
    this.#events.push(event);
    if (this.#events.length > EVENTS_KEPT) this.#events.splice(0, this.#events.length - EVENTS_KEPT);
    this.#publish({ type: 'event', event });
  }

  /** The last event, so a repeated failure is logged once rather than every second. */
  get lastEvent(): ConsoleEvent | undefined {
    return this.#events[this.#events.length - 1];
  }

  snapshot(): Snapshot {
    return { latest: this.latest, history: this.history.series(), events: [...this.#events], actions: { haPauseResume: this.haPauseResume } };
  }

  subscribe(listener: (message: Message) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  #publish(message: Message): void {
    for (const listener of this.#listeners) listener(message);
  }
}
