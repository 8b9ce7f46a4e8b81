import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import type { ConsoleState } from './state.js';
import type { ClusterOps, OnProgress } from './types.js';

z.config(en());

const nodeName = z.string().check(z.regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be a node name: lower-case letters, digits or _, starting with a letter'));

/** Each action's request body; unknown fields are refused rather than ignored. */
const bodies = {
  switchover: z.strictObject({ to: z.optional(nodeName) }),
  'add-replica': z.strictObject({ name: z.optional(nodeName), from: z.optional(nodeName), sync: z.optional(z.boolean()) }),
  'remove-replica': z.strictObject({ name: nodeName }),
  pause: z.strictObject({}),
  resume: z.strictObject({}),
} as const;

export type ActionName = keyof typeof bodies;

/** An HTTP answer: status and JSON body. */
export interface Answer {
  readonly status: 202 | 400 | 404 | 409;
  readonly body: Record<string, unknown>;
}

const refusal = (status: Answer['status'], type: string, message: string): Answer => ({ status, body: { error: { type, message } } });

function describe(name: ActionName, body: Record<string, unknown>): string {
  if (name === 'switchover') return body.to ? `switchover to ${String(body.to)}` : 'switchover';
  if (name === 'add-replica') return `add replica${body.name ? ` ${String(body.name)}` : ''}${body.from ? ` from ${String(body.from)}` : ''}${body.sync ? ' (sync)' : ''}`;
  if (name === 'remove-replica') return `remove replica ${String(body.name)}`;
  return name === 'pause' ? 'pause automatic failover' : 'resume automatic failover';
}

/** The one-line text of an operation's failure, with its hint when it is a pgrepl error. */
function failureText(error: unknown): string {
  const e = error as { message?: string; hint?: string };
  return `${e.message ?? String(error)}${e.hint ? ` (hint: ${e.hint})` : ''}`;
}

/**
 * Runs the console's actions, one at a time: the cluster lock keeps other pgrepl processes out,
 * and this keeps a second action of this very process (which would hold the same lock) out.
 * Accepted actions run in the background; their steps and outcome go to the event log.
 */
export class ActionRunner {
  #running: string | null = null;

  constructor(readonly ops: ClusterOps, readonly state: ConsoleState) {}

  get running(): string | null {
    return this.#running;
  }

  isAction(name: string): name is ActionName {
    return Object.hasOwn(bodies, name);
  }

  start(name: ActionName, input: unknown): Answer {
    const parsed = bodies[name].safeParse(input ?? {});
    if (!parsed.success) return refusal(400, 'InvalidRequest', `${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    const body = parsed.data as Record<string, unknown>;
    if ((name === 'pause' && !this.ops.pause) || (name === 'resume' && !this.ops.resume)) {
      return refusal(404, 'NotAvailable', `${name} needs HA, which is off for this cluster`);
    }
    if (this.#running) return refusal(409, 'Busy', `${this.#running} is still running; wait for it to finish`);
    const what = describe(name, body);
    this.#running = what;
    this.state.switchingOver = name === 'switchover';
    this.#log(`${what}: started`);
    void this.#run(name, body).then(
      () => this.#log(`${what}: done`),
      (error: unknown) => this.#log(`${what}: failed: ${failureText(error)}`),
    ).finally(() => {
      this.#running = null;
      this.state.switchingOver = false;
    });
    return { status: 202, body: { accepted: what } };
  }

  #run(name: ActionName, body: Record<string, unknown>): Promise<unknown> {
    const onProgress: OnProgress = (event) => {
      if (event.type === 'clone' && event.percent !== 100) return; // the bar is the CLI's; the log keeps the end
      const message = event.type === 'clone' ? `cloned ${(event.totalKb / 1024).toFixed(1)} MB` : event.message;
      this.#log(`${event.node ? `${event.node}: ` : ''}${message}`, event.node);
    };
    switch (name) {
      case 'switchover': return this.ops.switchover(body, onProgress);
      case 'add-replica': return this.ops.addReplica(body, onProgress);
      case 'remove-replica': return this.ops.removeReplica(body as { name: string }, onProgress);
      case 'pause': return this.ops.pause!(onProgress);
      case 'resume': return this.ops.resume!(onProgress);
    }
  }

  #log(message: string, node?: string): void {
    this.state.log({ at: Date.now(), kind: 'action', message, ...(node ? { node } : {}) });
  }
}
