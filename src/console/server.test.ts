import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ActionRunner } from './actions.js';
import { Assets } from './assets.js';
import { ClusterMetrics } from './metrics.js';
import { consoleApp } from './server.js';
import { ConsoleState } from './state.js';
import type { ClusterOps, StatusDocument } from './types.js';

const STATUS: StatusDocument = { dir: '/c', nodes: [], warnings: [] };

function app(calls: string[] = []): ReturnType<typeof consoleApp> {
  const ops: ClusterOps = {
    status: async () => STATUS,
    switchover: async () => void calls.push('switchover'),
    addReplica: async () => void calls.push('addReplica'),
    removeReplica: async () => void calls.push('removeReplica'),
    close: async () => undefined,
  };
  const state = new ConsoleState(10, false);
  const assets = Assets.fromMemory({ 'index.html': '<!doctype html>', 'format.js': '', 'topology.js': '', 'cards.js': '', 'chart.js': '', 'app.js': '', 'app.css': '', 'uPlot.iife.min.js': '', 'uPlot.min.css': '' });
  return consoleApp({
    state, metrics: new ClusterMetrics(() => 0), actions: new ActionRunner(ops, state), token: 's3cret', assets,
    status: ops.status, allowedHosts: new Set(['127.0.0.1:9']),
  });
}

const post = (body: string, headers: Record<string, string> = {}): RequestInit => ({ method: 'POST', body, headers: { host: '127.0.0.1:9', 'content-type': 'application/json', ...headers } });
const get: RequestInit = { headers: { host: '127.0.0.1:9' } };

test('server: the page comes with a policy that lets it load and reach nothing but the console', async () => {
  const res = await app().request('/', get);
  assert.equal(res.status, 200);
  const csp = res.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), csp);
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
});

test('server: only the fixed asset list is served; no path reaches the file system', async () => {
  const a = app();
  assert.equal((await a.request('/assets/app.js', get)).status, 200);
  for (const path of ['/assets/..%2Fpackage.json', '/assets/../../etc/passwd', '/assets/nope.js']) assert.equal((await a.request(path, get)).status, 404, path);
});

test('server: a foreign Host header is refused (DNS rebinding)', async () => {
  assert.equal((await app().request('/api/status', { headers: { host: 'evil.example' } })).status, 403);
  assert.deepEqual(await (await app().request('/api/status', get)).json(), STATUS);
});

const actionCases: Array<[string, string, Record<string, string>, number]> = [
  ['no token', '{"to":"pg2"}', {}, 401],
  ['a wrong token', '{"to":"pg2"}', { authorization: 'Bearer nope' }, 401],
  ['the token in the query string does not count', '{"to":"pg2"}', {}, 401],
  ['a body that is not JSON', 'to=pg2', { authorization: 'Bearer s3cret' }, 400],
  ['the token', '{"to":"pg2"}', { authorization: 'Bearer s3cret' }, 202],
];
for (const [name, body, headers, status] of actionCases) {
  test(`server: switchover with ${name} answers ${status}`, async () => {
    const calls: string[] = [];
    const path = name.includes('query') ? '/api/actions/switchover?token=s3cret' : '/api/actions/switchover';
    const res = await app(calls).request(path, post(body, headers));
    assert.equal(res.status, status);
    if (status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, status === 202 ? ['switchover'] : []);
  });
}

test('server: an unknown action is 404, and a GET on an action is not an action', async () => {
  const a = app();
  assert.equal((await a.request('/api/actions/drop', post('{}', { authorization: 'Bearer s3cret' }))).status, 404);
  assert.equal((await a.request('/api/actions/switchover', get)).status, 404);
});
