import * as z from 'zod/mini';
import { PgreplError } from '../errors.js';
import { isAlive } from '../pg/postmaster-pid.js';
import type { ClusterLayout } from './layout.js';

/**
 * How far a failover got. Each step names what is done: `started` (about to fence the old
 * primary; `to` is the user's --to, or null for "the most advanced replica"), `fenced` (the old
 * primary is fenced and `to` chosen; its promotion may have begun), `promoted` (`to` accepts
 * writes, the spec still names `from`), `spec-saved` (the spec names `to`; replicas remain to repoint).
 */
export type FailoverStep = 'started' | 'fenced' | 'promoted' | 'spec-saved';

/**
 * How far a switchover got: `started` (preparing the candidate; the old primary untouched),
 * `stopping` (the old primary is marked diverged and being stopped), `stopped` (it stopped cleanly
 * and `to` replayed its shutdown checkpoint; its promotion may have begun), `promoted`,
 * `spec-saved`, `followers-repointed`, `old-primary-restarted` (it streams from `to`).
 */
export type SwitchoverStep = 'started' | 'stopping' | 'stopped' | 'promoted' | 'spec-saved' | 'followers-repointed' | 'old-primary-restarted';

interface IntentBase {
  readonly from: string;
  /** When the command began (ISO 8601). */
  readonly startedAt: string;
  /** The process that wrote it; absent in records written by hand. */
  readonly pid?: number;
}

export type FailoverIntent = IntentBase & { readonly op: 'failover'; readonly force: boolean } & (
    | { readonly step: 'started'; readonly to: string | null }
    /** `ahead`: replicas holding WAL `to` lacks (a forced --to), fenced once it is promoted. */
    | { readonly step: Exclude<FailoverStep, 'started'>; readonly to: string; readonly ahead: readonly string[] }
  );

export type SwitchoverIntent = IntentBase & { readonly op: 'switchover'; readonly to: string; readonly step: SwitchoverStep };

/**
 * A change of primary in progress, written before its first action and after each step that
 * changes the cluster, removed when the command ends (done, or cleanly undone). One left behind by
 * a command that is no longer running is an interrupted change: the next `failover`/`switchover`
 * finishes it (see resume-plan.ts) and every other changing command refuses until then.
 * CloudNativePG's PendingFailoverMarker is the model.
 */
export type Intent = FailoverIntent | SwitchoverIntent;

const name = z.string().check(z.minLength(1));
const base = { from: name, startedAt: z.string(), pid: z.optional(z.number().check(z.int(), z.positive())) };
const failoverSchema = z.union([
  z.object({ ...base, op: z.literal('failover'), force: z.boolean(), step: z.literal('started'), to: z.nullable(name) }),
  z.object({ ...base, op: z.literal('failover'), force: z.boolean(), step: z.enum(['fenced', 'promoted', 'spec-saved']), to: name, ahead: z.array(name) }),
]);
const switchoverSchema = z.object({
  ...base,
  op: z.literal('switchover'),
  to: name,
  step: z.enum(['started', 'stopping', 'stopped', 'promoted', 'spec-saved', 'followers-repointed', 'old-primary-restarted']),
});
const intentSchema = z.union([failoverSchema, switchoverSchema]);

/** The intent file is there but cannot be trusted: fail closed, nothing changes the cluster until a person looks. */
export class UnreadableIntentError extends PgreplError {}

/** The recorded intent, or null when no change of primary is in progress. */
export async function readIntent(layout: ClusterLayout): Promise<Intent | null> {
  let text: string;
  try {
    text = await layout.readFile(layout.intentFile);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw unreadable(layout, (error as Error).message);
  }
  let parsed: ReturnType<typeof z.safeParse<typeof intentSchema>>;
  try {
    parsed = z.safeParse(intentSchema, JSON.parse(text));
  } catch (error) {
    throw unreadable(layout, (error as Error).message);
  }
  if (!parsed.success) throw unreadable(layout, 'not a failover or switchover record');
  return parsed.data as Intent;
}

function unreadable(layout: ClusterLayout, why: string): UnreadableIntentError {
  return new UnreadableIntentError(`${layout.intentFile} cannot be read (${why}), so whether a failover or switchover was left half done is unknown`, {
    hint: 'check `pgrepl status` (one primary, replicas streaming?), then move the file away and run the command again',
  });
}

/** Records `intent` (0600, atomically, never through a symlink), then pauses there if a test asked to. */
export async function writeIntent(layout: ClusterLayout, intent: Intent): Promise<void> {
  await layout.writeFile(layout.intentFile, `${JSON.stringify({ ...intent, pid: process.pid })}\n`, 0o600, 'admin');
  await pauseForTest(intent.step);
}

export async function removeIntent(layout: ClusterLayout): Promise<void> {
  await layout.removeTree(layout.intentFile);
}

/** Whether the command that wrote `intent` is gone (it never is while it holds the cluster lock). */
export function interrupted(intent: Intent): boolean {
  if (intent.pid === process.pid) return false;
  return intent.pid === undefined || !isAlive(intent.pid);
}

/** One line for people: what was interrupted, and where. */
export function describeIntent(intent: Intent): string {
  const to = intent.to ?? 'the most advanced replica';
  return `${intent.op} from ${intent.from} to ${to} started ${intent.startedAt}${intent.pid ? ` by pid ${intent.pid}` : ''}, last step \`${intent.step}\``;
}

/** The command that finishes `intent`. */
export function resumeCommand(intent: Intent): string {
  if (intent.op === 'switchover') return `pgrepl switchover --to ${intent.to}`;
  return `pgrepl failover${intent.to === null ? '' : ` --to ${intent.to}`}`;
}

/** A change of primary was interrupted: only the command that finishes it may change the cluster. */
export class InterruptedChangeError extends PgreplError {}

export function interruptedChangeError(intent: Intent): InterruptedChangeError {
  return new InterruptedChangeError(`an interrupted ${describeIntent(intent)} is unfinished`, {
    hint: `finish it first with \`${resumeCommand(intent)}\` (it resumes from that step); \`pgrepl status\` shows where the cluster stands`,
  });
}

/**
 * For every command that changes the cluster but is not the one finishing an interrupted change
 * (up, rejoin, add-replica, remove-replica, set): refuses while one is recorded. Run under the lock.
 */
export async function refuseWhileInterrupted(layout: ClusterLayout): Promise<void> {
  const intent = await readIntent(layout);
  if (intent) throw interruptedChangeError(intent);
}

/**
 * Test hook: with PGREPL_TEST_PAUSE_AT=STEP the command stops (forever) right after recording STEP,
 * so a test can kill it there. Inert when the variable is unset or names another step.
 */
async function pauseForTest(step: string): Promise<void> {
  if (process.env['PGREPL_TEST_PAUSE_AT'] !== step) return;
  process.stderr.write(`pgrepl: test pause after step ${step} (PGREPL_TEST_PAUSE_AT)\n`);
  await new Promise(() => setInterval(() => undefined, 60_000));
}
