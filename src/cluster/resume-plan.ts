import type { Intent } from './intent.js';

/**
 * What is seen of one of the two nodes an intent names. `primary`: whether it runs (or, stopped,
 * last ran, by its control file) as a primary; null when that cannot be told (it does not answer,
 * its control file is unreadable). `cleanlyStopped`: stopped, and its control file says `shut down`
 * (a clean primary shutdown, whose last record is the shutdown checkpoint).
 */
export interface NodeLook {
  readonly inSpec: boolean;
  readonly running: boolean;
  readonly primary: boolean | null;
  readonly cleanlyStopped: boolean;
}

/** The look a resume decides from: who the spec names as the primary, and the intent's two nodes. */
export interface ResumeLook {
  readonly specPrimary: string;
  readonly from: NodeLook;
  /** Null when the intent has no `to` yet (a failover interrupted before it chose one). */
  readonly to: NodeLook | null;
}

/** What becomes of the old primary when a resume finishes. */
export type OldPrimaryEnd = 'restart-as-replica' | 'already-running' | 'leave-fenced';

/**
 * What to do with an interrupted change, with a reason for people:
 * - `rerun`: run the command again from its start (a failover: with the recorded --to and --force;
 *   a candidate it already promoted is adopted, not promoted twice),
 * - `restart`: a switchover not past its point of no return: the old primary is started again as
 *   the primary (unmarked), the candidate's preparation undone, then the switchover runs again,
 * - `promote`: a switchover whose old primary stopped cleanly: promote the candidate once it has
 *   replayed the shutdown checkpoint, then finish,
 * - `finish`: the new primary is promoted: save the spec if not yet, repoint the replicas, and
 *   bring back or leave fenced the old primary,
 * - `refuse`: what is seen contradicts the record; a person must look.
 */
export type ResumePlan =
  | { readonly action: 'rerun' | 'restart' | 'promote'; readonly reason: string; readonly startTo: boolean }
  | { readonly action: 'finish'; readonly reason: string; readonly startTo: boolean; readonly saveSpec: boolean; readonly oldPrimary: OldPrimaryEnd }
  | { readonly action: 'refuse'; readonly reason: string; readonly hint: string };

const FAILOVER_ORDER = ['started', 'fenced', 'promoted', 'spec-saved'];
const SWITCHOVER_ORDER = ['started', 'stopping', 'stopped', 'promoted', 'spec-saved', 'followers-repointed', 'old-primary-restarted'];

/** Whether the intent's recorded step is at or past `step`. */
function reached(intent: Intent, step: string): boolean {
  const order = intent.op === 'failover' ? FAILOVER_ORDER : SWITCHOVER_ORDER;
  return order.indexOf(intent.step) >= order.indexOf(step);
}

const LOOK_HINT = 'check `pgrepl status` and the nodes\' logs; once one primary runs and the spec (pgrepl.yaml) names it, move DIR/intent.json away';

function refuse(reason: string): ResumePlan {
  return { action: 'refuse', reason, hint: LOOK_HINT };
}

/**
 * The resume decision, a pure function of the record and one look. The look outranks the
 * record where they differ: a command killed between acting and recording (a promotion that took,
 * a spec that was saved) left the record a step behind, never ahead.
 */
export function planResume(intent: Intent, look: ResumeLook): ResumePlan {
  const to = intent.to;
  if (!look.from.inSpec || (look.to !== null && !look.to.inSpec)) return refuse(`the spec no longer has ${look.from.inSpec ? to : intent.from}`);
  if (look.specPrimary !== intent.from && look.specPrimary !== to) {
    return refuse(`the spec names ${look.specPrimary} as the primary, neither ${intent.from} nor ${to ?? 'a chosen candidate'}`);
  }
  if (look.from.running && look.from.primary !== false && look.to?.primary === true && look.to.running) {
    return refuse(`${intent.from} and ${to} both run as primaries`);
  }
  return intent.op === 'failover' ? planFailoverResume(intent, look) : planSwitchoverResume(intent, look);
}

function planFailoverResume(intent: Intent & { op: 'failover' }, look: ResumeLook): ResumePlan {
  const startTo = look.to !== null && !look.to.running && reached(intent, 'fenced');
  if (look.specPrimary === intent.to) {
    return { action: 'finish', reason: `${intent.to} is the primary in the spec; repointing the replicas`, startTo, saveSpec: false, oldPrimary: 'leave-fenced' };
  }
  const why = look.to?.primary === true ? `${intent.to} was promoted; adopting it` : intent.step === 'started' ? 'fencing and choosing again' : `${intent.from} is fenced; promoting ${intent.to}`;
  return { action: 'rerun', reason: why, startTo };
}

function planSwitchoverResume(intent: Intent & { op: 'switchover' }, look: ResumeLook): ResumePlan {
  const to = look.to!;
  const fromEnd: OldPrimaryEnd = look.from.running ? 'already-running' : look.from.cleanlyStopped ? 'restart-as-replica' : 'leave-fenced';
  if (look.specPrimary === intent.to) {
    return { action: 'finish', reason: `${intent.to} is the primary in the spec; finishing`, startTo: !to.running, saveSpec: false, oldPrimary: fromEnd };
  }
  if (to.primary === true) {
    return { action: 'finish', reason: `${intent.to} was promoted; saving the spec and finishing`, startTo: !to.running, saveSpec: true, oldPrimary: fromEnd };
  }
  if (to.primary === null) return refuse(`cannot tell whether ${intent.to} was promoted (it does not answer and its control file is unreadable)`);
  if (reached(intent, 'promoted')) return refuse(`${intent.to} was promoted, yet now runs as a standby`);
  if (intent.step === 'started') return { action: 'rerun', reason: `${intent.from} was not stopped yet; switching over again`, startTo: false };
  if (!look.from.running && look.from.cleanlyStopped && to.running) {
    return { action: 'promote', reason: `${intent.from} stopped cleanly; promoting ${intent.to} once it has replayed the shutdown checkpoint`, startTo: false };
  }
  const why = look.from.running ? `${intent.from} still runs` : look.from.cleanlyStopped ? `${intent.to} is not running` : `${intent.from} did not stop cleanly`;
  return { action: 'restart', reason: `${why}: restarting ${intent.from} as the primary, then switching over again`, startTo: false };
}

/**
 * Whether `op` (with the user's --to, if any) is the command that finishes `intent`: the same
 * verb, and the same target or none. A failover that has not chosen its candidate yet (`started`:
 * the old primary fenced, nothing promoted) may be given another --to.
 */
export function finishes(intent: Intent, op: Intent['op'], to: string | undefined): boolean {
  if (intent.op !== op) return false;
  if (to === undefined || to === intent.to) return true;
  return intent.op === 'failover' && intent.step === 'started';
}
