import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { NodeSpec } from '../spec/schema.js';
import type { Agent } from './agent.js';
import type { Dcs } from './dcs/dcs.js';
import { lookAtSelf, memberState, publishedMembers } from './look.js';
import { AUTH_SCHEME, causeHint, ReplayGuard, verifyRequest, type AuthCause } from './peer-auth.js';

/** What the API needs to check that a POST comes from another agent of the cluster. */
export interface PeerAuth {
  readonly key: Buffer;
  /** How far a request's timestamp may be from this agent's clock (the lease TTL). */
  readonly windowMs: number;
  readonly log: (line: string) => void;
}

/**
 * The agent's REST API, the checks a load balancer or a peer uses (Patroni's are the model):
 *   GET /health   200 while this node's PostgreSQL runs
 *   GET /primary  200 only on the lease holder running as a writable primary
 *   GET /replica  200 only on a replica whose walreceiver streams
 *   GET /status   this node's fresh state (peers compare positions with it)
 *   GET /cluster  the leader, pause, and every member's published state
 *   POST /failsafe  a leader cut off from the DCS asks to keep running (see failsafe.ts); only
 *                   another agent may ask, its request signed with the agents' API key (peer-auth.ts)
 * Every other change goes through the DCS. The GETs stay open: load balancers use them.
 */
export function serveApi(agent: Agent, node: NodeSpec, dcs: Dcs, clusterOf: () => Parameters<typeof lookAtSelf>[0], auth: PeerAuth): Promise<Server> {
  const gate = new Gate(node.name, auth);
  const server = createServer((req, res) => {
    route(agent, node, dcs, clusterOf, gate, req).then(
      ([code, body]) => send(res, code, body),
      (error: Error) => send(res, 500, { error: error.message }),
    );
  });
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: node.host, port: node.apiPort, exclusive: true }, () => resolve(server));
  });
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(code === 401 ? { 'www-authenticate': AUTH_SCHEME } : {}),
  });
  res.end(text);
}

type Reply = [number, unknown];

/** Reads a small body (at most 1 KiB). */
async function readBody(req: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 1024) throw new Error('body too large');
  }
  return text;
}

/** Checks the signature of POSTs to this node's agent; logs each cause of refusal once. */
class Gate {
  readonly #guard: ReplayGuard;
  readonly #logged = new Set<AuthCause>();

  constructor(
    private readonly me: string,
    private readonly auth: PeerAuth,
  ) {
    this.#guard = new ReplayGuard(auth.windowMs);
  }

  /** null when the request may go on, else the refusal to send. */
  check(req: IncomingMessage, path: string, body: string): Reply | null {
    const verdict = verifyRequest(this.auth.key, { method: 'POST', path, to: this.me, body }, req.headers.authorization, this.#guard);
    if (verdict.ok) return null;
    if (!this.#logged.has(verdict.cause)) {
      this.#logged.add(verdict.cause);
      this.auth.log(`refused POST ${path} from ${req.socket.remoteAddress ?? 'an unknown address'}: ${verdict.cause} (${causeHint(verdict.cause)}); further refusals for this cause are not logged`);
    }
    return [verdict.status, { error: `POST ${path} is for the cluster's agents only: ${verdict.cause}` }];
  }
}

async function failsafe(agent: Agent, gate: Gate, req: IncomingMessage): Promise<Reply> {
  const text = await readBody(req).catch(() => null);
  if (text === null) return [413, { error: 'a body of at most 1 KiB was expected' }];
  const refused = gate.check(req, '/failsafe', text);
  if (refused) return refused;
  let body: { leader?: unknown } | null = null;
  try {
    body = JSON.parse(text) as { leader?: unknown } | null;
  } catch {
    // answered below
  }
  if (typeof body?.leader !== 'string') return [400, { error: 'expected {"leader": NAME}' }];
  return agent.grantFailsafe(body.leader) ? [200, { granted: true }] : [409, { granted: false, why: 'not a leader this agent can vouch for' }];
}

async function route(agent: Agent, node: NodeSpec, dcs: Dcs, clusterOf: () => Parameters<typeof lookAtSelf>[0], gate: Gate, req: IncomingMessage): Promise<Reply> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/failsafe') return failsafe(agent, gate, req);
  if (req.method !== 'GET' && req.method !== 'HEAD') return [405, { error: 'GET only (and POST /failsafe between agents)' }];
  const view = agent.view;
  const pg = view.pg;
  const member = view.member;
  switch (path) {
    case '/':
    case '/health':
      return [pg !== null && pg.kind !== 'stopped' ? 200 : 503, member];
    case '/primary':
    case '/leader':
    case '/read-write':
      return [view.holdsLease && pg?.kind === 'running' && pg.role === 'primary' ? 200 : 503, member];
    case '/replica':
    case '/read-only':
      return [pg?.kind === 'running' && pg.role === 'replica' && pg.streaming ? 200 : 503, member];
    case '/status': {
      // Fresh, not the last cycle's: a peer deciding a takeover compares positions with it.
      const scratch = { expectRunning: false, unreachableSince: null, handedOverTo: null };
      const fresh = await lookAtSelf(clusterOf(), node, agent.own, scratch, performance.now());
      return [200, memberState(node, fresh, node.nofailover !== true && node.delay === undefined, member?.reason ?? 'starting')];
    }
    case '/cluster':
      return [200, { leader: view.leader, paused: view.paused, members: await publishedMembers(dcs).catch(() => null), me: member }];
    default:
      return [404, { error: `no such endpoint: ${path}` }];
  }
}
