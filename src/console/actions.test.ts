import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionRunner } from './actions.js';
import { ConsoleState } from './state.js';
import type { ClusterOps } from './types.js';

/** Operations that record their calls and finish when told to. */
function recordingOps(ha: boolean): { ops: ClusterOps; calls: unknown[]; finish: (error?: Error) => void } {
  const calls: unknown[] = [];
  let settle: (error?: Error) => void = () => undefined;
  const op = (name: string) => (request: unknown, onProgress?: (e: { type: 'step'; node: string; message: string }) => void) => {
    calls.push([name, request]);
    if (typeof onProgress === 'function') onProgress({ type: 'step', node: 'pg2', message: 'promoting' });
    return new Promise<void>((resolve, reject) => (settle = (error) => (error ? reject(error) : resolve())));
  };
  const ops: ClusterOps = {
    status: () => Promise.reject(new Error('unused')),
    switchover: op('switchover'), addReplica: op('addReplica'), removeReplica: op('removeReplica'),
    close: () => Promise.resolve(),
    ...(ha ? { pause: op('pause'), resume: op('resume') } : {}),
  };
  return { ops, calls, finish: (error) => settle(error) };
}

const messages = (state: ConsoleState): string[] => state.snapshot().events.map((e) => e.message);

const refusals: Array<[string, unknown, number, RegExp]> = [
  ['switchover', { to: 'PG2' }, 400, /to: must be a node name/],
  ['switchover', { to: 'pg2', force: true }, 400, /force/],
  ['switchover', [], 400, /expected object/],
  ['remove-replica', {}, 400, /name/],
  ['add-replica', { sync: 'yes' }, 400, /sync/],
  ['pause', {}, 404, /needs HA/],
];
for (const [name, body, status, message] of refusals) {
  test(`actions: ${name} ${JSON.stringify(body)} is refused with ${status}`, () => {
    const { ops, calls } = recordingOps(false);
    const runner = new ActionRunner(ops, new ConsoleState(10, false));
    assert.ok(runner.isAction(name));
    const answer = runner.start(name as 'switchover', body);
    assert.equal(answer.status, status);
    assert.match(JSON.stringify(answer.body), message);
    assert.deepEqual(calls, []);
  });
}

test('actions: one at a time; steps and the outcome go to the event log', async () => {
  const { ops, calls, finish } = recordingOps(true);
  const state = new ConsoleState(10, true);
  const runner = new ActionRunner(ops, state);
  assert.equal(runner.start('switchover', { to: 'pg2' }).status, 202);
  assert.equal(runner.running, 'switchover to pg2');
  const busy = runner.start('pause', {});
  assert.equal(busy.status, 409);
  assert.match(JSON.stringify(busy.body), /switchover to pg2 is still running/);
  finish(Object.assign(new Error('pg2 is 20 MB behind'), { hint: 'wait for it to catch up' }));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(runner.running, null);
  assert.deepEqual(messages(state), ['switchover to pg2: started', 'pg2: promoting', 'switchover to pg2: failed: pg2 is 20 MB behind (hint: wait for it to catch up)']);
  assert.equal(runner.start('pause', {}).status, 202);
  finish();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(messages(state).at(-1), 'pause automatic failover: done');
  assert.deepEqual(calls.map((c) => (c as [string])[0]), ['switchover', 'pause']);
  assert.ok(!runner.isAction('drop-database'));
});
