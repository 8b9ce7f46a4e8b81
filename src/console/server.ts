import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { secureHeaders } from 'hono/secure-headers';
import { streamSSE } from 'hono/streaming';
import type { ActionRunner } from './actions.js';
import type { Assets } from './assets.js';
import { METRICS_CONTENT_TYPE, type ClusterMetrics } from './metrics.js';
import type { ConsoleState, Message } from './state.js';
import { bearerMatches } from './token.js';
import type { StatusDocument } from './types.js';

export interface AppOptions {
  readonly state: ConsoleState;
  readonly metrics: ClusterMetrics;
  readonly actions: ActionRunner;
  readonly token: string;
  readonly assets: Assets;
  /** `pgrepl status --json`, read afresh. */
  readonly status: () => Promise<StatusDocument>;
  /** Host headers accepted (a loopback console refuses others: DNS rebinding); null accepts any. */
  readonly allowedHosts: ReadonlySet<string> | null;
}

const hostGuard = (allowed: ReadonlySet<string> | null): MiddlewareHandler => async (c, next) => {
  const host = c.req.header('host')?.toLowerCase();
  if (allowed !== null && (host === undefined || !allowed.has(host))) {
    return c.json({ error: { type: 'ForbiddenHost', message: `this console answers only to ${[...allowed].join(', ')}` } }, 403);
  }
  await next();
};

// The page loads and talks to this server only: no inline code, no other origin, no framing.
const policy = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"],
  },
  referrerPolicy: 'no-referrer',
});

function liveStream(state: ConsoleState): Parameters<typeof streamSSE>[1] {
  return async (stream) => {
    // The snapshot is taken and the subscription made in one turn, so no sample falls between them.
    const snapshot = JSON.stringify(state.snapshot());
    let queue = stream.writeSSE({ event: 'snapshot', data: snapshot });
    const send = (message: Message): void => {
      const data = JSON.stringify(message.type === 'sample' ? message.sample : message.event);
      queue = queue.then(() => stream.writeSSE({ event: message.type, data })).catch(() => undefined);
    };
    const unsubscribe = state.subscribe(send);
    try {
      await new Promise<void>((resolve) => stream.onAbort(resolve));
    } finally {
      unsubscribe();
    }
  };
}

/** The console's HTTP surface: the page and its assets, the live stream, the API, actions and /metrics. */
export function consoleApp(o: AppOptions): Hono {
  const app = new Hono();
  app.use('*', hostGuard(o.allowedHosts), policy);
  app.get('/', (c) => c.body(o.assets.get('index.html')!.body, 200, o.assets.headers('index.html')));
  app.get('/assets/:file', (c) => {
    const file = c.req.param('file');
    const asset = o.assets.get(file);
    return asset ? c.body(asset.body, 200, o.assets.headers(file)) : c.notFound();
  });
  app.get('/api/status', async (c) => c.json(await o.status()));
  app.get('/api/snapshot', (c) => c.json(o.state.snapshot()));
  app.get('/api/stream', (c) => streamSSE(c, liveStream(o.state)));
  app.get('/metrics', async (c) => c.body(await o.metrics.text(), 200, { 'content-type': METRICS_CONTENT_TYPE }));
  app.post('/api/actions/:name', bodyLimit({ maxSize: 16 * 1024 }), async (c) => {
    const name = c.req.param('name');
    if (!o.actions.isAction(name)) return c.json({ error: { type: 'UnknownAction', message: `no action ${name}` } }, 404);
    if (!bearerMatches(c.req.header('authorization'), o.token)) {
      o.state.log({ at: Date.now(), kind: 'action', message: `${name} refused: no valid console token` });
      const message = 'this action needs the console token printed when `pgrepl console` started';
      return c.json({ error: { type: 'Unauthorized', message } }, 401, { 'www-authenticate': 'Bearer' });
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ error: { type: 'InvalidRequest', message: 'the body must be a JSON object' } }, 400);
    }
    const answer = o.actions.start(name, body);
    return c.json(answer.body, answer.status);
  });
  app.onError((error, c) => c.json({ error: { type: error.name, message: error.message, hint: (error as { hint?: string }).hint ?? null } }, 500));
  return app;
}
