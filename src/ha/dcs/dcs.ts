import { PgreplError } from '../../errors.js';

/**
 * The DCS (distributed configuration store) an HA cluster's agents share: the leader lease, each
 * member's published state, and a few cluster-wide keys (pause, a failover intent, a switchover
 * request). Two backends implement it: `etcd` (a real etcd v3 cluster, for nodes on several
 * machines) and `local` (files in the cluster directory, for processes on one host).
 *
 * Atomicity rules every backend keeps (the contract suite tests them):
 * - `acquireLeader` is create-if-absent: of several agents racing for a free key, exactly one wins.
 * - `renewLeader` succeeds only while the key is still the caller's (compare-and-swap on the holder,
 *   or a keep-alive of the caller's own etcd lease); it never resurrects an expired or taken key.
 * - `releaseLeader` deletes the key only if the caller holds it.
 * - An expired lease is gone for every reader: `leader()` never returns a holder whose TTL ran out
 *   (etcd: on the reader's own clock, counted from when it first saw the holder's last renewal,
 *   which is never before the holder asked for it), and whoever then acquires it wins only if
 *   nobody renewed or took it meanwhile.
 * - `put` with `expectVersion` is a compare-and-swap (`null` means: only if absent).
 * - Any failure to reach the store is a `DcsUnavailableError`, never a wrong answer: callers treat
 *   "unknown" as unknown (the leader must then assume it may have lost its lease).
 *
 * Times are milliseconds. The leader TTL is fixed when the backend is opened.
 */
export interface Dcs {
  /** What this backend is, for messages and status ("etcd://h1:2379", "local:/var/lib/pgrepl/x/dcs"). */
  readonly url: string;
  /** The lease's time to live in ms (etcd rounds up to whole seconds; this is the effective value). */
  readonly ttlMs: number;

  /** Takes the leader key if no one holds it. True when `me` holds it afterwards (also if it already did). */
  acquireLeader(me: string): Promise<boolean>;
  /** Extends `me`'s lease by a full TTL from now. False when the key is not (any longer) `me`'s. */
  renewLeader(me: string): Promise<boolean>;
  /** Gives the lease up, only if `me` holds it (a clean demotion, a switchover). */
  releaseLeader(me: string): Promise<void>;
  /** Who holds the lease now, or null when nobody does. */
  leader(): Promise<LeaderRecord | null>;

  /** Publishes one member's state under `name`; it vanishes `ttlMs` after the last publish. */
  publishMember(name: string, state: unknown, ttlMs: number): Promise<void>;
  /** Every member whose record has not expired. */
  members(): Promise<MemberRecord[]>;
  /** Removes a member record at once (an agent shutting down cleanly). */
  removeMember(name: string): Promise<void>;

  /** A cluster-wide key ("config", "intent", "switchover"), with its version for compare-and-swap. */
  get(key: string): Promise<Versioned | null>;
  /**
   * Writes a cluster-wide key. With `expectVersion` it is a compare-and-swap: a string writes only if
   * the key is at that version, `null` only if it is absent. Returns the new version, or null when
   * the comparison failed.
   */
  put(key: string, value: unknown, expectVersion?: string | null): Promise<string | null>;
  /** Deletes a key; with `expectVersion`, only if it is at that version. True when it was deleted. */
  delete(key: string, expectVersion?: string): Promise<boolean>;

  /** Releases connections and timers; the lease is left to expire unless released first. */
  close(): Promise<void>;
}

export interface LeaderRecord {
  /** The holder's member name, or `UNKNOWN_HOLDER` when the record is unreadable (fail closed). */
  readonly holder: string;
  /**
   * How long the lease has left unless renewed, as this reader sees it: exact for `local`; for
   * etcd, a TTL from when this reader first saw the last renewal. Shown by `status`, and used only
   * to look again right when it runs out, never to decide.
   */
  readonly expiresInMs?: number;
}

/**
 * The holder `leader()` reports for a leader record it cannot read: held, by nobody who can renew
 * it, until its expiry could have passed. Not a valid member name, so it never equals an agent's.
 */
export const UNKNOWN_HOLDER = '?unreadable';

export interface MemberRecord {
  readonly name: string;
  /** What the member published (validated by the reader: a DCS holds hostile input like any file). */
  readonly state: unknown;
}

export interface Versioned {
  readonly value: unknown;
  /** Opaque: an etcd mod_revision, a local counter. Only compared for equality. */
  readonly version: string;
}

/** The DCS could not be reached or did not answer in time. Callers must treat the lease as unknown. */
export class DcsUnavailableError extends PgreplError {}

/** A DCS URL or option is malformed or names an unsupported backend. */
export class DcsConfigError extends PgreplError {
  override readonly exitCode = 2;
}
