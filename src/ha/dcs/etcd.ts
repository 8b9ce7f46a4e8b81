import { DcsConfigError, DcsUnavailableError, type Dcs, type LeaderRecord, type MemberRecord, type Versioned } from './dcs.js';
import { b64, EtcdError, EtcdGateway, formatEndpoint, prefixEnd, unb64, type Endpoint } from './etcd-gateway.js';
import { checkHolderName, checkKeyName, checkMemberName } from './names.js';
import { LeaderSight } from './leader-sight.js';

/**
 * The etcd v3 DCS, over etcd's JSON gateway (see etcd-gateway.ts for why not the gRPC client).
 * Keys live under `/pgrepl/<cluster>/`: `leader`, `members/<name>`, and the cluster-wide keys.
 *
 * The leader key is bound to a lease of the holder's, and every renewal rewrites it (a
 * compare-and-swap on its value and lease), so its revision changes every loop wait. Expiry is
 * judged on each reader's own clock, as Patroni does on Kubernetes: a reader that has seen the same
 * revision for a whole TTL treats the lease as expired, and may take the key by a compare-and-swap
 * on that revision. The holder counts its TTL from when it *asked* for the renewal, which is before
 * any reader can have seen it, so no reader's expiry comes before the holder's own deadline. This is
 * exact to the reader's polling, where etcd's own lease expiry is whole seconds, raised to its
 * minimum (2 s with its default election timeout), and checked only every 500 ms; the etcd lease
 * stays as the backstop that removes a dead holder's key when nobody is watching.
 */

interface KeyValue {
  key?: string;
  value?: string;
  lease?: string;
  mod_revision?: string;
}
interface RangeAnswer {
  kvs?: KeyValue[];
}
interface TxnAnswer {
  header?: { revision?: string };
  succeeded?: boolean;
  responses?: { response_range?: RangeAnswer; response_delete_range?: { deleted?: string } }[];
}
interface KeepAliveAnswer {
  result?: { TTL?: string };
}

export interface EtcdDcsOptions {
  readonly endpoints: readonly Endpoint[];
  readonly clusterName: string;
  readonly ttlMs: number;
  /** Longest any one call may take, over every endpoint (default 1000 ms). */
  readonly timeoutMs?: number;
  /** Monotonic ms, for judging the leader key's expiry. */
  readonly clock?: () => number;
}

/** The lease not (any longer) existing, as etcd reports it. */
const isLeaseGone = (error: unknown): boolean => error instanceof EtcdError && /lease not found/.test(error.message);

export class EtcdDcs implements Dcs {
  readonly url: string;
  private readonly gateway: EtcdGateway;
  private readonly prefix: string;
  private readonly clock: () => number;
  private ttlSeconds: number;
  /** The lease the leader key is put with, once granted. */
  private leaderLease: string | null = null;
  private readonly sight: LeaderSight;
  /** A lease granted while another's ran out, so a takeover needs no grant (an etcd commit) first. */
  private ahead: Promise<string | null> | null = null;
  private aheadAt = 0;
  /** Granted TTLs of the leases leader keys were seen on (one lookup per lease). */
  private readonly grantedMs = new Map<string, number>();
  /** Each published member's lease and its TTL. */
  private readonly memberLeases = new Map<string, { id: string; ttlSeconds: number }>();

  constructor(options: EtcdDcsOptions) {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(options.clusterName)) {
      throw new DcsConfigError(`cluster name ${JSON.stringify(options.clusterName)} cannot name etcd keys: use letters, digits, '.', '_' or '-'`);
    }
    this.gateway = new EtcdGateway(options.endpoints, options.timeoutMs ?? 1000);
    this.url = `etcd://${options.endpoints.map(formatEndpoint).join(',')}`;
    this.prefix = `/pgrepl/${options.clusterName}/`;
    this.ttlSeconds = Math.max(1, Math.ceil(options.ttlMs / 1000));
    this.clock = options.clock ?? (() => performance.now());
    this.sight = new LeaderSight(this.clock);
  }

  get ttlMs(): number {
    return this.ttlSeconds * 1000;
  }

  private get leaderKey(): string {
    return `${this.prefix}leader`;
  }

  /** One gateway call, etcd's own errors turned into DcsUnavailableError except those `keep` wants to see. */
  private async call<T>(path: string, body: object, options: { idempotent?: boolean; keep?: (e: unknown) => boolean } = {}): Promise<T> {
    try {
      return await this.gateway.call<T>(path, body, options.idempotent ?? true);
    } catch (error) {
      if (error instanceof EtcdError && !options.keep?.(error)) {
        throw new DcsUnavailableError(`etcd refused ${path}: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  private async grant(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const answer = await this.call<{ ID?: string; TTL?: string }>('/v3/lease/grant', { TTL: String(ttlSeconds) });
    if (!answer.ID) throw new DcsUnavailableError('etcd granted no lease');
    return { id: answer.ID, ttlSeconds: Number(answer.TTL ?? ttlSeconds) };
  }

  /** Seconds the lease has left after refreshing it; 0 when it had already expired. */
  private async keepAlive(id: string): Promise<number> {
    const answer = await this.call<KeepAliveAnswer>('/v3/lease/keepalive', { ID: id });
    return Number(answer.result?.TTL ?? 0);
  }

  private async revoke(id: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: id }, { keep: isLeaseGone }).catch((error: unknown) => {
      if (!isLeaseGone(error)) throw error;
    });
  }

  private async range(key: string): Promise<KeyValue | null> {
    const answer = await this.call<RangeAnswer>('/v3/kv/range', { key: b64(key) });
    return answer.kvs?.[0] ?? null;
  }

  async acquireLeader(me: string): Promise<boolean> {
    checkHolderName(me);
    try {
      return await this.tryAcquire(me);
    } catch (error) {
      if (!isLeaseGone(error)) throw error;
      this.leaderLease = null; // granted at an earlier try and expired unused: take a fresh one
      try {
        return await this.tryAcquire(me);
      } catch (again) {
        throw again instanceof EtcdError ? new DcsUnavailableError(`etcd refused the leader key: ${again.message}`, { cause: again }) : again;
      }
    }
  }

  private async tryAcquire(me: string): Promise<boolean> {
    if (this.leaderLease === null && this.ahead !== null) {
      const id = await this.ahead;
      this.ahead = null;
      // Kept alive now, so it lasts a TTL from after the caller asked, as a fresh grant would.
      if (id !== null && (await this.keepAlive(id).catch(() => 0)) > 0) this.leaderLease = id;
    }
    if (this.leaderLease === null) {
      const lease = await this.grant(this.ttlSeconds);
      this.ttlSeconds = lease.ttlSeconds;
      this.leaderLease = lease.id;
    }
    // Seen unrenewed for a TTL at the last look: take it over straight away (a takeover is on the
    // write pause's path), and fall back to create-if-absent if it changed meanwhile.
    const stale = this.sight.staleRevision();
    if (stale !== null && (await this.takeOver(me, this.leaderLease, stale))) return true;
    const answer = await this.call<TxnAnswer>('/v3/kv/txn', this.createLeaderTxn(me, this.leaderLease), { keep: isLeaseGone });
    if (answer.succeeded === true) return this.wrote(answer);
    // The key exists. Ours already (a retried request that had landed, or this agent restarted
    // within the TTL)? Then adopt the lease it is on and keep it alive. Unrenewed for a TTL as we
    // have seen it? Then take it over, if it is still at the revision we saw.
    const kv = answer.responses?.[0]?.response_range?.kvs?.[0];
    if (kv && unb64(kv.value) !== me && (await this.expired(kv))) return this.takeOver(me, this.leaderLease, kv.mod_revision ?? '0');
    if (!kv || unb64(kv.value) !== me || !kv.lease || kv.lease === '0') return false;
    if ((await this.keepAlive(kv.lease)) <= 0) return false;
    if (kv.lease !== this.leaderLease) {
      const unused = this.leaderLease;
      this.leaderLease = kv.lease;
      await this.revoke(unused).catch(() => undefined);
    }
    return this.rewrite(me, kv.lease);
  }

  /**
   * Rewrites the leader key only if it still names us on our lease. The new revision is what
   * readers count their TTL from.
   */
  private async rewrite(me: string, lease: string): Promise<boolean> {
    const key = b64(this.leaderKey);
    const answer = await this.call<TxnAnswer>('/v3/kv/txn', {
      compare: [
        { key, target: 'VALUE', result: 'EQUAL', value: b64(me) },
        { key, target: 'LEASE', result: 'EQUAL', lease },
      ],
      success: [{ request_put: { key, value: b64(me), lease } }],
    });
    return answer.succeeded === true && this.wrote(answer);
  }

  private async takeOver(me: string, lease: string, revision: string): Promise<boolean> {
    const key = b64(this.leaderKey);
    const answer = await this.call<TxnAnswer>('/v3/kv/txn', {
      compare: [{ key, target: 'MOD', result: 'EQUAL', mod_revision: revision }],
      success: [{ request_put: { key, value: b64(me), lease } }],
    }, { idempotent: false, keep: isLeaseGone });
    return answer.succeeded === true && this.wrote(answer);
  }

  /** Records our own write of the leader key as seen now: its revision is the transaction's. */
  private wrote(answer: TxnAnswer): true {
    this.sight.wrote(answer.header?.revision, this.ttlMs);
    return true;
  }

  /** Whether the key has stood at its revision, in our sight, for a TTL (see leader-sight.ts). */
  private expired(kv: KeyValue): Promise<boolean> {
    return this.sight.saw(kv.mod_revision ?? '0', () => this.leaseTtlMs(kv.lease));
  }

  /** The TTL a leader key's lease was granted, looked up once per lease; ours when unknown. */
  private async leaseTtlMs(lease: string | undefined): Promise<number> {
    if (!lease || lease === '0') return this.ttlMs;
    let granted = this.grantedMs.get(lease);
    if (granted === undefined) {
      const answer = await this.call<{ grantedTTL?: string }>('/v3/kv/lease/timetolive', { ID: lease });
      granted = Number(answer.grantedTTL ?? 0) * 1000;
      if (this.grantedMs.size > 64) this.grantedMs.clear();
      this.grantedMs.set(lease, granted);
    }
    return Math.max(this.ttlMs, granted);
  }

  private createLeaderTxn(me: string, lease: string): object {
    const key = b64(this.leaderKey);
    return {
      compare: [{ key, target: 'CREATE', result: 'EQUAL', create_revision: '0' }],
      success: [{ request_put: { key, value: b64(me), lease } }],
      failure: [{ request_range: { key } }],
    };
  }

  async renewLeader(me: string): Promise<boolean> {
    checkHolderName(me);
    const lease = this.leaderLease;
    // Watched unrenewed for a TTL, the lease is expired for us as for any reader, and another may
    // be taking it over: never resurrect it. (Out of sight meanwhile, the compare-and-swap decides.)
    if (lease === null || this.sight.unrenewed()) return false;
    // Both at once: the lease kept alive, and the key rewritten if it still names us on it.
    const [ttl, rewritten] = await Promise.all([this.keepAlive(lease), this.rewrite(me, lease)]);
    if (ttl <= 0) {
      this.leaderLease = null;
      return false;
    }
    return rewritten;
  }

  async releaseLeader(me: string): Promise<void> {
    checkHolderName(me);
    const key = b64(this.leaderKey);
    await this.call('/v3/kv/txn', {
      compare: [{ key, target: 'VALUE', result: 'EQUAL', value: b64(me) }],
      success: [{ request_delete_range: { key } }],
    });
    const lease = this.leaderLease;
    this.leaderLease = null;
    if (lease !== null) await this.revoke(lease);
  }

  /** The holder, unless the key is absent or has stood unrenewed for a TTL on our clock. */
  async leader(): Promise<LeaderRecord | null> {
    const kv = await this.range(this.leaderKey);
    if (kv === null) {
      this.sight.gone();
      return null;
    }
    if (await this.expired(kv)) return null;
    const left = this.sight.remainingMs() ?? this.ttlMs;
    if (left < (this.sight.ttlMs ?? this.ttlMs) / 2) this.grantAhead();
    return { holder: unb64(kv.value), expiresInMs: left };
  }

  /** Grants the lease a takeover would need, once the holder has stopped renewing for half a TTL. */
  private grantAhead(): void {
    // One that went unused (another node took over) has expired by now: grant another.
    if (this.leaderLease !== null || (this.ahead !== null && this.clock() - this.aheadAt < this.ttlMs / 2)) return;
    this.aheadAt = this.clock();
    this.ahead = this.grant(this.ttlSeconds).then(
      (lease) => {
        this.ttlSeconds = lease.ttlSeconds;
        return lease.id;
      },
      () => null,
    );
  }

  async publishMember(name: string, state: unknown, ttlMs: number): Promise<void> {
    checkMemberName(name);
    const ttlSeconds = Math.max(1, Math.ceil(ttlMs / 1000));
    let lease = this.memberLeases.get(name);
    if (lease && lease.ttlSeconds < ttlSeconds) lease = undefined;
    const key = b64(`${this.prefix}members/${name}`);
    const value = b64(JSON.stringify(state ?? null));
    if (lease) {
      const id = lease.id;
      const [ttl, put] = await Promise.all([
        this.keepAlive(id),
        this.call('/v3/kv/put', { key, value, lease: id }, { keep: isLeaseGone }).then(
          () => true,
          (error: unknown) => (isLeaseGone(error) ? false : Promise.reject(error)),
        ),
      ]);
      if (ttl > 0 && put) return;
    }
    lease = await this.grant(ttlSeconds);
    this.memberLeases.set(name, lease);
    await this.call('/v3/kv/put', { key, value, lease: lease.id });
  }

  async members(): Promise<MemberRecord[]> {
    const prefix = `${this.prefix}members/`;
    const answer = await this.call<RangeAnswer>('/v3/kv/range', { key: b64(prefix), range_end: prefixEnd(prefix) });
    const found: MemberRecord[] = [];
    for (const kv of answer.kvs ?? []) {
      const name = unb64(kv.key).slice(prefix.length);
      try {
        found.push({ name: checkMemberName(name), state: JSON.parse(unb64(kv.value)) as unknown });
      } catch {
        // A record that is not ours (bad name, not JSON) is skipped, as an absent member.
      }
    }
    return found;
  }

  async removeMember(name: string): Promise<void> {
    checkMemberName(name);
    await this.call('/v3/kv/deleterange', { key: b64(`${this.prefix}members/${name}`) });
    const lease = this.memberLeases.get(name);
    this.memberLeases.delete(name);
    if (lease) await this.revoke(lease.id);
  }

  async get(key: string): Promise<Versioned | null> {
    const kv = await this.range(this.prefix + checkKeyName(key));
    if (kv === null) return null;
    try {
      return { value: JSON.parse(unb64(kv.value)) as unknown, version: kv.mod_revision ?? '0' };
    } catch {
      throw new DcsUnavailableError(`etcd key ${this.prefix}${key} does not hold JSON`, { hint: 'inspect it with etcdctl, then delete or overwrite it' });
    }
  }

  async put(key: string, value: unknown, expectVersion?: string | null): Promise<string | null> {
    const k = b64(this.prefix + checkKeyName(key));
    const v = b64(JSON.stringify(value === undefined ? null : value));
    const compare =
      expectVersion === undefined
        ? []
        : [expectVersion === null ? { key: k, target: 'CREATE', result: 'EQUAL', create_revision: '0' } : { key: k, target: 'MOD', result: 'EQUAL', mod_revision: expectVersion }];
    const answer = await this.call<TxnAnswer>('/v3/kv/txn', { compare, success: [{ request_put: { key: k, value: v } }] }, { idempotent: expectVersion === undefined });
    return answer.succeeded === true ? (answer.header?.revision ?? null) : null;
  }

  async delete(key: string, expectVersion?: string): Promise<boolean> {
    const k = b64(this.prefix + checkKeyName(key));
    const compare = expectVersion === undefined ? [] : [{ key: k, target: 'MOD', result: 'EQUAL', mod_revision: expectVersion }];
    const answer = await this.call<TxnAnswer>('/v3/kv/txn', { compare, success: [{ request_delete_range: { key: k } }] }, { idempotent: false });
    return answer.succeeded === true && Number(answer.responses?.[0]?.response_delete_range?.deleted ?? 0) > 0;
  }

  async close(): Promise<void> {
    this.gateway.close();
  }
}
