import { PgreplError } from '../errors.js';
import { apiUrl } from './config.js';
import type { ActContext } from './act-context.js';
import { agentKeyOf } from './agent-key.js';
import { monotonic } from './lease.js';
import { signRequest } from './peer-auth.js';
import type { NodeSpec } from '../spec/schema.js';

class NotHoldingError extends PgreplError {}

/** Each peer has this long to answer a failsafe request. */
const ASK_TIMEOUT_MS = 300;
/** What asking every peer may take on a loaded machine. */
const ASK_BUDGET_MS = 2 * ASK_TIMEOUT_MS;

/**
 * How long a renewal may go unanswered before the peers are asked for failsafe meanwhile: late
 * enough that a merely slow renewal asks nobody (a grant holds a peer back from a free lease for a
 * TTL, which would slow a failover that follows), early enough that the answers land before the
 * watchdog fences at `fencesAt`. Null without a lease: there is nothing to keep. Pure.
 */
export function earlyAskIn(fencesAt: number | null, now: number, loopWaitMs: number): number | null {
  if (fencesAt === null) return null;
  return Math.max(loopWaitMs, fencesAt - ASK_BUDGET_MS - now);
}

/** Asks `peer`'s agent, signed with the agents' API key (an unsigned request is refused). */
async function granted(peer: NodeSpec, leader: string, key: Buffer): Promise<boolean> {
  const url = apiUrl(peer);
  if (url === null) return false;
  const body = JSON.stringify({ leader });
  try {
    const response = await fetch(`${url}/failsafe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: signRequest(key, { method: 'POST', path: '/failsafe', to: peer.name, body }) },
      body,
      signal: AbortSignal.timeout(ASK_TIMEOUT_MS),
    });
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Patroni's failsafe mode: the DCS is away, so the lease cannot be renewed. The primary keeps
 * running only if every other node's agent answers, promising to take no free lease for a TTL;
 * then the lease counts as kept for a TTL from the moment they were asked. One missing answer
 * (a node this primary cannot reach may be failing over) and the watchdog fences this primary
 * before its lease could have expired.
 */
export async function keepRunningWithoutDcs(ctx: ActContext): Promise<void> {
  // Only a holder asks: the peers' promise holds them back from a free lease, so an agent whose
  // primary was fenced (or handed over) meanwhile must stop asking, or nobody would ever take it.
  const asked = monotonic();
  if (ctx.lease.deadline === null || ctx.lease.deadline <= asked) throw new NotHoldingError('not holding the lease: no failsafe to ask for');
  const { key } = await agentKeyOf(ctx.cluster.layout);
  const peers = ctx.cluster.spec.nodes.filter((n) => n.name !== ctx.node.name);
  const answers = await Promise.all(peers.map((n) => granted(n, ctx.node.name, key)));
  const missing = peers.filter((_, i) => !answers[i]).map((n) => n.name);
  if (missing.length > 0) throw new Error(`failsafe not granted by ${missing.join(', ')}: fencing before the lease can expire`);
  ctx.lease.keepWithoutDcs(asked);
}

/**
 * Keeps asking for failsafe on a timer of its own, every loop wait, once granted: the loop's look
 * waits out the DCS's timeout every cycle, and on a loaded machine that alone could outlast the
 * lease's margin. Stops when refused (the watchdog then fences), and when the DCS answers again.
 */
export class FailsafeTicker {
  #timer: NodeJS.Timeout | undefined;
  #asking = false;
  /** Counts stops: an ask that was under way when asking stopped does not start it again. */
  #stops = 0;

  constructor(private readonly everyMs: number) {}

  /** Asks now (throws unless every agent grants it), then keeps asking until stopped or refused. */
  async keep(ctx: ActContext): Promise<void> {
    const stops = this.#stops;
    await keepRunningWithoutDcs(ctx);
    if (this.#timer || stops !== this.#stops) return;
    this.#timer = setInterval(() => {
      if (this.#asking) return;
      this.#asking = true;
      keepRunningWithoutDcs(ctx).catch(() => this.stop()).finally(() => (this.#asking = false));
    }, this.everyMs);
    this.#timer.unref();
  }

  stop(): void {
    this.#stops++;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
