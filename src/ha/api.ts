import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { NodeSpec } from '../spec/schema.js';
import type { Agent } from './agent.js';
import type { Dcs } from './dcs/dcs.js';
import { lookAtSelf, memberState, publishedMembers } from './look.js';

/**
 * The agent's REST API, the checks a load balancer or a peer uses (Patroni's are the model):
 *   GET /health   200 while this node's PostgreSQL runs
 *   GET /primary  200 only on the lease holder running as a writable primary
 *   GET /replica  200 only on a replica whose walreceiver streams
 *   GET /status   this node's fresh state (peers compare positions with it)
 *   GET /cluster  the leader, pause, and every member's published state
 *   POST /failsafe  a leader cut off from the DCS asks to keep running (see failsafe.ts)
 * Every other change goes through the DCS.
 */
export function serveApi(agent: Agent, node: NodeSpec, dcs: Dcs, clusterOf: () => Parameters<typeof lookAtSelf>[0]): Promise<Server> {
  const server = createServer((req, res) => {
    route(agent, node, dcs, clusterOf, req).then(
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
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

type Reply = [number, unknown];

/** Reads a small JSON body (at most 1 KiB). */
async function jsonBody(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 1024) throw new Error('body too large');
  }
  return JSON.parse(text) as unknown;
}

async function failsafe(agent: Agent, req: IncomingMessage): Promise<Reply> {
  const body = (await jsonBody(req).catch(() => null)) as { leader?: unknown } | null;
  if (typeof body?.leader !== 'string') return [400, { error: 'expected {"leader": NAME}' }];
  return agent.grantFailsafe(body.leader) ? [200, { granted: true }] : [409, { granted: false, why: 'not a leader this agent can vouch for' }];
}

async function route(agent: Agent, node: NodeSpec, dcs: Dcs, clusterOf: () => Parameters<typeof lookAtSelf>[0], req: IncomingMessage): Promise<Reply> {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/failsafe') return failsafe(agent, req);
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
