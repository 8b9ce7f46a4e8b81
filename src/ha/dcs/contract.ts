import assert from 'node:assert/strict';
import { DcsConfigError, DcsUnavailableError, type Dcs } from './dcs.js';

/**
 * The DCS contract: the atomicity rules written on `Dcs`, as cases every backend must pass. The
 * integration suite (test/integration/dcs.test.ts) runs them against `local` and a real etcd.
 */
export interface ContractHarness {
  /** A new client of the same store, as another agent would open it. Closed by the harness. */
  open(): Promise<Dcs>;
  /** Lets at least `ms` pass for the store: advances an injected clock, or waits in real time. */
  elapse(ms: number): Promise<void>;
  /** The store's time in ms (the injected clock, or real monotonic time). */
  now(): number;
  /** Each of `names` tries to acquire the free leader key at once, from its own process or client. */
  race(names: readonly string[]): Promise<boolean[]>;
  /** Makes the store unreachable; the returned function makes it reachable again. */
  breakStore(): Promise<() => Promise<void>>;
  /** The call timeout the clients were opened with. */
  readonly timeoutMs: number;
}

export interface ContractCase {
  readonly name: string;
  run(h: ContractHarness): Promise<void>;
}

/** Lets store time pass in small steps until `dcs` reports no leader; fails past `limitMs` of it. */
async function untilNoLeader(h: ContractHarness, dcs: Dcs, limitMs: number): Promise<number> {
  let waited = 0;
  while ((await dcs.leader()) !== null) {
    if (waited > limitMs) assert.fail(`the leader key outlived its TTL ${dcs.ttlMs} ms by more than ${limitMs - dcs.ttlMs} ms`);
    await h.elapse(50);
    waited += 50;
  }
  return waited;
}

/** Store time etcd may need past a TTL to expire a lease (its lessor checks every 500 ms). */
const EXPIRY_SLACK_MS = 1500;

export const contractCases: readonly ContractCase[] = [
  {
    name: 'of N acquirers racing for a free leader key, exactly one wins',
    async run(h) {
      const names = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
      const results = await h.race(names);
      const winners = names.filter((_, i) => results[i]);
      assert.equal(winners.length, 1, `winners: ${winners.join(', ') || 'none'}`);
      const dcs = await h.open();
      assert.equal((await dcs.leader())?.holder, winners[0]);
    },
  },
  {
    name: 'acquire is create-if-absent: true again for the holder, false for anyone else',
    async run(h) {
      const [a, b] = [await h.open(), await h.open()];
      assert.equal(await a.leader(), null);
      assert.equal(await a.acquireLeader('a'), true);
      assert.equal(await a.acquireLeader('a'), true);
      assert.equal(await b.acquireLeader('b'), false);
      assert.equal((await b.leader())?.holder, 'a');
    },
  },
  {
    name: 'a holder restarted within the TTL (a new client) takes its own key back with acquire, then renews it',
    async run(h) {
      const [before, b] = [await h.open(), await h.open()];
      assert.equal(await before.acquireLeader('a'), true);
      const after = await h.open();
      assert.equal(await after.acquireLeader('a'), true);
      assert.equal(await after.renewLeader('a'), true);
      assert.equal((await b.leader())?.holder, 'a');
      assert.equal(await b.acquireLeader('b'), false);
    },
  },
  {
    name: 'the leader key lives a TTL, then leader() is null',
    async run(h) {
      const a = await h.open();
      const asked = h.now();
      assert.equal(await a.acquireLeader('a'), true);
      await h.elapse(a.ttlMs / 2);
      const half = h.now();
      assert.ok((await a.leader())?.holder === 'a' || half - asked > a.ttlMs, 'gone before its TTL');
      await untilNoLeader(h, a, a.ttlMs + EXPIRY_SLACK_MS);
      // Measured on the store's clock from before the acquire: a loaded machine oversleeps.
      const lived = h.now() - asked;
      assert.ok(lived >= a.ttlMs - 100, `expired ${a.ttlMs - lived} ms early`);
    },
  },
  {
    name: 'renew extends the lease; it fails after expiry and never resurrects the key',
    async run(h) {
      const a = await h.open();
      assert.equal(await a.acquireLeader('a'), true);
      for (let i = 0; i < 3; i++) {
        await h.elapse(a.ttlMs / 2);
        assert.equal(await a.renewLeader('a'), true, `renewal ${i + 1}`);
      }
      assert.equal((await a.leader())?.holder, 'a', 'renewed past its first TTL');
      await untilNoLeader(h, a, a.ttlMs + EXPIRY_SLACK_MS);
      assert.equal(await a.renewLeader('a'), false);
      assert.equal(await a.leader(), null);
    },
  },
  {
    name: 'renew fails once another has taken the expired key',
    async run(h) {
      const [a, b] = [await h.open(), await h.open()];
      assert.equal(await a.acquireLeader('a'), true);
      await untilNoLeader(h, b, a.ttlMs + EXPIRY_SLACK_MS);
      assert.equal(await b.acquireLeader('b'), true);
      assert.equal(await a.renewLeader('a'), false);
      assert.equal(await a.acquireLeader('a'), false);
      assert.equal((await a.leader())?.holder, 'b');
      assert.equal(await b.renewLeader('b'), true);
    },
  },
  {
    name: 'release deletes the key only for its holder',
    async run(h) {
      const [a, b] = [await h.open(), await h.open()];
      assert.equal(await a.acquireLeader('a'), true);
      await b.releaseLeader('b');
      assert.equal((await b.leader())?.holder, 'a');
      await a.releaseLeader('a');
      assert.equal(await b.leader(), null);
      assert.equal(await a.renewLeader('a'), false);
      assert.equal(await b.acquireLeader('b'), true);
    },
  },
  {
    name: 'members vanish a TTL after their last publish, or at once when removed',
    async run(h) {
      const [a, b] = [await h.open(), await h.open()];
      const ttl = a.ttlMs;
      await a.publishMember('m1', { role: 'primary', lsn: '0/3000060' }, ttl);
      await b.publishMember('m2', { role: 'replica' }, ttl * 4);
      await b.publishMember('m3', 'gone soon', ttl * 4);
      assert.deepEqual(
        (await a.members()).map((m) => m.name),
        ['m1', 'm2', 'm3'],
      );
      await b.removeMember('m3');
      await a.publishMember('m1', { role: 'primary', lsn: '0/3000100' }, ttl);
      assert.deepEqual(await b.members(), [
        { name: 'm1', state: { role: 'primary', lsn: '0/3000100' } },
        { name: 'm2', state: { role: 'replica' } },
      ]);
      let waited = 0;
      while ((await b.members()).some((m) => m.name === 'm1')) {
        assert.ok(waited <= ttl + EXPIRY_SLACK_MS, 'm1 outlived its TTL');
        await h.elapse(50);
        waited += 50;
      }
      assert.deepEqual(
        (await b.members()).map((m) => m.name),
        ['m2'],
      );
    },
  },
  {
    name: 'put and delete with a version are compare-and-swap',
    async run(h) {
      const [a, b] = [await h.open(), await h.open()];
      assert.equal(await a.get('intent'), null);
      const v1 = await a.put('intent', { from: 'pg1', to: 'pg2', step: 'fence' }, null);
      assert.ok(v1 !== null);
      assert.equal(await b.put('intent', { from: 'pg1', to: 'pg3' }, null), null, 'create-if-absent over an existing key');
      assert.deepEqual(await b.get('intent'), { value: { from: 'pg1', to: 'pg2', step: 'fence' }, version: v1 });
      const v2 = await b.put('intent', { from: 'pg1', to: 'pg2', step: 'promote' }, v1);
      assert.ok(v2 !== null && v2 !== v1);
      assert.equal(await a.put('intent', { stale: true }, v1), null, 'a stale version must not overwrite');
      assert.equal(await a.delete('intent', v1), false, 'a stale version must not delete');
      assert.deepEqual((await a.get('intent'))?.value, { from: 'pg1', to: 'pg2', step: 'promote' });
      assert.equal(await a.delete('intent', v2), true);
      assert.equal(await a.get('intent'), null);
      assert.equal(await a.delete('intent'), false);
      const v3 = await a.put('intent', { from: 'pg2', to: 'pg1' });
      assert.ok(v3 !== null && v3 !== v2);
      assert.equal(await b.put('intent', { stale: true }, v2), null, 'a version from before a delete and re-create must not match');
      assert.equal(await b.delete('intent', v2), false, 'nor delete');
      assert.deepEqual(await b.get('intent'), { value: { from: 'pg2', to: 'pg1' }, version: v3 });
      assert.equal(await b.delete('intent'), true);
    },
  },
  {
    name: 'names that could escape their place (paths, reserved keys) are refused, as rejected promises',
    async run(h) {
      const a = await h.open();
      await assert.rejects(a.acquireLeader('../x'), DcsConfigError);
      await assert.rejects(a.publishMember('a/b', {}, a.ttlMs), DcsConfigError);
      await assert.rejects(a.put('leader', 'me'), DcsConfigError);
      await assert.rejects(a.get('members'), DcsConfigError);
      await assert.rejects(a.delete(''), DcsConfigError);
      assert.equal(await a.leader(), null);
    },
  },
  {
    name: 'an unreachable store is DcsUnavailableError within the timeout, never an answer',
    async run(h) {
      const a = await h.open();
      await a.publishMember('m1', {}, a.ttlMs);
      const restore = await h.breakStore();
      try {
        const calls: [string, () => Promise<unknown>][] = [
          ['acquireLeader', () => a.acquireLeader('a')],
          ['put', () => a.put('config', { x: 1 }, null)],
          ['delete', () => a.delete('config')],
        ];
        for (const [name, call] of calls) {
          const started = Date.now();
          await assert.rejects(call(), DcsUnavailableError, name);
          const took = Date.now() - started;
          assert.ok(took <= h.timeoutMs + 500, `${name} took ${took} ms against a timeout of ${h.timeoutMs} ms`);
        }
      } finally {
        await restore();
      }
      assert.equal(await a.acquireLeader('a'), true, 'the store works again once restored');
    },
  },
];
