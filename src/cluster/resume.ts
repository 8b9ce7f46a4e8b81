import { controlData } from '../pg/controldata.js';
import { serverPosition } from '../pg/queries.js';
import { isRunning, startServer } from '../pg/server.js';
import { withConnection } from '../pg/sql.js';
import type { NodeSpec } from '../spec/schema.js';
import { nodeNamed, primaryOf, replicasOf } from '../spec/topology.js';
import { settleAround } from './after-promotion.js';
import { adminTarget, instanceOf, type Cluster } from './context.js';
import { PreconditionError } from './errors.js';
import type { OnEvent } from './events.js';
import { failover, type FailoverOptions, type FailoverResult } from './failover.js';
import { describeIntent, interruptedChangeError, removeIntent, type FailoverIntent, type Intent, type SwitchoverIntent } from './intent.js';
import { observeCluster } from './observe.js';
import { finishes, planResume, type NodeLook, type ResumeLook, type ResumePlan } from './resume-plan.js';
import { finishSwitchover, promoteAfterShutdown, switchover, switchoverRecorder, undoSwitchover, type SwitchoverOptions, type SwitchoverResult } from './switchover.js';

/** What a resumed command reports: the interrupted change, and how it was finished. */
export interface Resumed {
  readonly op: Intent['op'];
  readonly from: string;
  readonly to: string | null;
  /** The last step the interrupted command recorded. */
  readonly step: Intent['step'];
  readonly action: Exclude<ResumePlan['action'], 'refuse'>;
  readonly reason: string;
}

/** A resume that finished the change without running the whole command again. */
export interface Finished {
  readonly from: string;
  readonly to: string;
  readonly totalMs: number;
  readonly resumed: Resumed;
}

async function nodeLook(cluster: Cluster, name: string | null): Promise<NodeLook | null> {
  if (name === null) return null;
  const node = nodeNamed(cluster.spec, name);
  if (!node) return { inSpec: false, running: false, primary: null, cleanlyStopped: false };
  if (await isRunning(instanceOf(cluster, node))) {
    const position = await withConnection(adminTarget(cluster, node), serverPosition, 2000).catch(() => null);
    return { inSpec: true, running: true, primary: position === null ? null : !position.inRecovery, cleanlyStopped: false };
  }
  const state = await controlData(cluster.bin, cluster.user, cluster.layout.dataDir(name)).then((c) => c.state, () => null);
  // A standby's control file says `shut down in recovery` or `in archive recovery`; a primary's these two.
  return { inSpec: true, running: false, primary: state === null ? null : state === 'shut down' || state === 'in production', cleanlyStopped: state === 'shut down' };
}

/** The look a resume decides from: the spec's primary, and the intent's two nodes. */
export async function lookForResume(cluster: Cluster, intent: Intent): Promise<ResumeLook> {
  const [from, to] = await Promise.all([nodeLook(cluster, intent.from), nodeLook(cluster, intent.to)]);
  return { specPrimary: primaryOf(cluster.spec).name, from: from!, to };
}

/** The plan for `intent`, announced; a refusal is thrown with what to check. */
async function decide(cluster: Cluster, intent: Intent, onEvent: OnEvent): Promise<{ plan: Exclude<ResumePlan, { action: 'refuse' }>; resumed: Resumed }> {
  const plan = planResume(intent, await lookForResume(cluster, intent));
  if (plan.action === 'refuse') throw new PreconditionError(`cannot finish the interrupted ${describeIntent(intent)}: ${plan.reason}`, { hint: plan.hint });
  onEvent({ type: 'step', message: `resuming the interrupted ${describeIntent(intent)}: ${plan.reason}` });
  return { plan, resumed: { op: intent.op, from: intent.from, to: intent.to, step: intent.step, action: plan.action, reason: plan.reason } };
}

function named(cluster: Cluster, name: string): NodeSpec {
  return nodeNamed(cluster.spec, name)!; // planResume refused if the spec lost it
}

/**
 * `pgrepl failover` finding an interrupted change: refused unless it finishes it (see finishes()). Before the spec names the new primary the failover runs again with the
 * recorded --to and --force (fencing again is a no-op; a candidate already promoted is adopted);
 * after, only the steps after the promotion run again.
 */
export async function resumeFailover(cluster: Cluster, intent: Intent, options: FailoverOptions): Promise<(FailoverResult & { resumed: Resumed }) | Finished> {
  if (intent.op !== 'failover' || !finishes(intent, 'failover', options.to)) throw interruptedChangeError(intent);
  const started = Date.now();
  const { plan, resumed } = await decide(cluster, intent, options.onEvent);
  if (plan.startTo) await startServer(instanceOf(cluster, named(cluster, intent.to!)));
  if (plan.action !== 'finish') {
    const to = intent.step === 'started' ? (options.to ?? intent.to ?? undefined) : intent.to;
    return { ...(await failover(cluster, { ...options, force: intent.force || options.force, ...(to === undefined ? {} : { to }) })), resumed };
  }
  await finishFailover(cluster, intent as FailoverIntent & { to: string }, options.onEvent);
  return { from: intent.from, to: intent.to!, totalMs: Date.now() - started, resumed };
}

async function finishFailover(cluster: Cluster, intent: FailoverIntent & { to: string }, onEvent: OnEvent): Promise<void> {
  const replicas = replicasOf(cluster.spec);
  const runs = await Promise.all(replicas.map((n) => isRunning(instanceOf(cluster, n))));
  const running = replicas.filter((_, i) => runs[i]).map((n) => n.name);
  const ahead = intent.step === 'started' ? [] : intent.ahead;
  await settleAround(cluster, { oldPrimary: named(cluster, intent.from), candidate: named(cluster, intent.to), ahead, followers: [], attached: [], running }, onEvent);
  await removeIntent(cluster.layout);
}

/**
 * `pgrepl switchover` finding an interrupted change: refused unless it finishes it (see finishes()). Before the point of no return (the old primary stopped cleanly) it is
 * undone and run again; past it, it goes on from the step it reached.
 */
export async function resumeSwitchover(cluster: Cluster, intent: Intent, options: SwitchoverOptions): Promise<(SwitchoverResult & { resumed: Resumed }) | Finished> {
  if (intent.op !== 'switchover' || !finishes(intent, 'switchover', options.to)) throw interruptedChangeError(intent);
  const started = Date.now();
  const { plan, resumed } = await decide(cluster, intent, options.onEvent);
  const oldPrimary = named(cluster, intent.from);
  const candidate = named(cluster, intent.to);
  if (plan.action === 'rerun' || plan.action === 'restart') {
    if (plan.action === 'restart') await undoSwitchover(cluster, oldPrimary, candidate);
    return { ...(await switchover(cluster, { ...options, to: intent.to })), resumed };
  }
  const record = switchoverRecorder(cluster.layout, intent.from, intent.to, intent.startedAt);
  if (plan.action === 'finish') {
    if (plan.startTo) await startServer(instanceOf(cluster, candidate));
    await finishSwitchover(cluster, oldPrimary, candidate, { attached: [], oldPrimary: plan.oldPrimary }, record, options.onEvent);
  } else {
    const { attached } = await promoteAfterShutdown(cluster, oldPrimary, candidate, await observeCluster(cluster), record, options.onEvent);
    await finishSwitchover(cluster, oldPrimary, candidate, { attached, oldPrimary: 'restart-as-replica' }, record, options.onEvent);
  }
  return { from: intent.from, to: intent.to, totalMs: Date.now() - started, resumed };
}
