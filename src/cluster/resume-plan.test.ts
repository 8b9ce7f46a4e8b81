import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FailoverStep, Intent, SwitchoverStep } from './intent.js';
import { finishes, planResume, type NodeLook, type ResumeLook } from './resume-plan.js';

const startedAt = '2025-01-01T00:00:00.000Z';
const failover = (step: FailoverStep, to: string | null = 'pg2'): Intent =>
  step === 'started' ? { op: 'failover', from: 'pg1', to, force: false, step, startedAt } : { op: 'failover', from: 'pg1', to: to!, force: false, step, startedAt, ahead: [] };
const switchover = (step: SwitchoverStep): Intent => ({ op: 'switchover', from: 'pg1', to: 'pg2', step, startedAt });

// Node looks: a running primary, a running standby, cleanly stopped primary, crashed primary, stopped standby, unknown.
const primary: NodeLook = { inSpec: true, running: true, primary: true, cleanlyStopped: false };
const standby: NodeLook = { inSpec: true, running: true, primary: false, cleanlyStopped: false };
const cleanStop: NodeLook = { inSpec: true, running: false, primary: true, cleanlyStopped: true };
const crashed: NodeLook = { inSpec: true, running: false, primary: true, cleanlyStopped: false };
const stoppedStandby: NodeLook = { inSpec: true, running: false, primary: false, cleanlyStopped: false };
const silent: NodeLook = { inSpec: true, running: true, primary: null, cleanlyStopped: false };
const gone: NodeLook = { inSpec: false, running: false, primary: null, cleanlyStopped: false };

const look = (from: NodeLook, to: NodeLook | null, specPrimary = 'pg1'): ResumeLook => ({ specPrimary, from, to });

// [what, intent, look, expected action (and details), or a refusal pattern]
type Expected = string | RegExp | { action: string; startTo?: boolean; saveSpec?: boolean; oldPrimary?: string };
const table: Array<[string, Intent, ResumeLook, Expected]> = [
  // failover
  ['failover killed before fencing: run again', failover('started', null), look(crashed, null), 'rerun'],
  ['failover killed while fencing a primary that still runs (forced): run again', failover('started'), look(primary, standby), 'rerun'],
  ['failover killed before promoting: run again', failover('fenced'), look(crashed, standby), 'rerun'],
  ['failover killed mid-promotion (record one step behind): adopt by running again', failover('fenced'), look(crashed, primary), 'rerun'],
  ['failover killed after promoting: run again, adopting', failover('promoted'), look(crashed, primary), 'rerun'],
  ['a promoted candidate stopped since is started first', failover('promoted'), look(crashed, cleanStop), { action: 'rerun', startTo: true }],
  ['a stopped candidate before promotion is started too (the rerun picks again)', failover('fenced'), look(crashed, stoppedStandby), { action: 'rerun', startTo: true }],
  ['failover killed after saving the spec: finish', failover('spec-saved'), look(crashed, primary, 'pg2'), { action: 'finish', saveSpec: false, oldPrimary: 'leave-fenced', startTo: false }],
  ['spec saved while the record says promoted: finish (the look outranks the record)', failover('promoted'), look(crashed, primary, 'pg2'), { action: 'finish', saveSpec: false }],
  ['spec names a third node', failover('promoted'), look(crashed, primary, 'pg3'), /spec names pg3 as the primary/],
  ['the candidate left the spec', failover('promoted'), look(crashed, gone), /spec no longer has pg2/],
  ['old primary running writable beside a promoted candidate', failover('promoted'), look(primary, primary), /both run as primaries/],
  ['old primary running, not answering, beside a promoted candidate', failover('promoted'), look(silent, primary), /both run as primaries/],
  // switchover
  ['switchover killed while preparing: run again', switchover('started'), look(primary, standby), 'rerun'],
  ['killed after marking, before stopping: old primary still runs: undo and run again', switchover('stopping'), look(primary, standby), 'restart'],
  ['old primary stopped cleanly, candidate a standby: promote', switchover('stopping'), look(cleanStop, standby), 'promote'],
  ['killed after the replay check, before promoting: promote', switchover('stopped'), look(cleanStop, standby), 'promote'],
  ['old primary crashed before its shutdown checkpoint: undo and run again', switchover('stopping'), look(crashed, standby), 'restart'],
  ['candidate stopped before promotion: undo (the rerun then refuses)', switchover('stopped'), look(cleanStop, stoppedStandby), 'restart'],
  ['candidate promoted, record one step behind: finish, saving the spec', switchover('stopped'), look(cleanStop, primary), { action: 'finish', saveSpec: true, oldPrimary: 'restart-as-replica', startTo: false }],
  ['killed after promoting: finish', switchover('promoted'), look(cleanStop, primary), { action: 'finish', saveSpec: true, oldPrimary: 'restart-as-replica' }],
  ['killed after saving the spec: finish without saving', switchover('spec-saved'), look(cleanStop, primary, 'pg2'), { action: 'finish', saveSpec: false, oldPrimary: 'restart-as-replica' }],
  ['killed after restarting the old primary: finish, it already runs', switchover('old-primary-restarted'), look(standby, primary, 'pg2'), { action: 'finish', oldPrimary: 'already-running' }],
  ['promoted candidate stopped since: started first', switchover('spec-saved'), look(cleanStop, cleanStop, 'pg2'), { action: 'finish', startTo: true }],
  ['old primary crashed after the promotion: left fenced', switchover('promoted'), look(crashed, primary), { action: 'finish', oldPrimary: 'leave-fenced' }],
  ['candidate unknown (no answer, no control file)', switchover('stopped'), look(cleanStop, { ...stoppedStandby, primary: null }), /cannot tell whether pg2 was promoted/],
  ['recorded promoted, yet a standby', switchover('promoted'), look(cleanStop, standby), /was promoted, yet now runs as a standby/],
  ['two primaries', switchover('promoted'), look(primary, primary), /both run as primaries/],
];

for (const [what, intent, seen, expected] of table) {
  test(`planResume: ${what}`, () => {
    const plan = planResume(intent, seen);
    if (expected instanceof RegExp) {
      assert.equal(plan.action, 'refuse');
      assert.match(plan.reason, expected);
      assert.ok('hint' in plan && plan.hint.length > 0);
      return;
    }
    const want = typeof expected === 'string' ? { action: expected } : expected;
    assert.equal(plan.action, want.action, plan.reason);
    for (const key of ['startTo', 'saveSpec', 'oldPrimary'] as const) {
      if (want[key] !== undefined) assert.equal((plan as Record<string, unknown>)[key], want[key], `${key}: ${plan.reason}`);
    }
    assert.ok(plan.reason.length > 0);
  });
}

// [what, intent, command, --to, finishes it]
const requests: Array<[string, Intent, 'failover' | 'switchover', string | undefined, boolean]> = [
  ['the same verb, no --to', switchover('stopped'), 'switchover', undefined, true],
  ['the same verb and --to', switchover('stopped'), 'switchover', 'pg2', true],
  ['another --to', switchover('stopped'), 'switchover', 'pg3', false],
  ['another verb', switchover('stopped'), 'failover', undefined, false],
  ['a failover that chose nothing yet may be given a --to', failover('started', null), 'failover', 'pg3', true],
  ['or another --to than the one it was given', failover('started', 'pg2'), 'failover', 'pg3', true],
  ['not once it chose its candidate', failover('fenced'), 'failover', 'pg3', false],
  ['a switchover does not finish a failover', failover('promoted'), 'switchover', 'pg2', false],
];
for (const [what, intent, op, to, expected] of requests) {
  test(`finishes: ${what}`, () => assert.equal(finishes(intent, op, to), expected));
}
