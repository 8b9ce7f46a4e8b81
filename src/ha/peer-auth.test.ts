import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayGuard, signRequest, verifyRequest, type SignedRequest } from './peer-auth.js';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const NOW = 1_700_000_000_000;
const WINDOW = 2000;
const NONCE = 'ab'.repeat(16);
const REQUEST: SignedRequest = { method: 'POST', path: '/failsafe', to: 'pg2', body: '{"leader":"pg1"}' };

test('peer auth: a signed request is accepted once; anything else is refused with the cause', () => {
  const good = signRequest(KEY, REQUEST, NOW, NONCE);
  const cases: Array<[string, string | undefined, SignedRequest, number, true | [401 | 403, string]]> = [
    ['signed by the cluster key', good, REQUEST, NOW, true],
    ['signed a second ago', signRequest(KEY, REQUEST, NOW - 1000, NONCE), REQUEST, NOW, true],
    ['no header', undefined, REQUEST, NOW, [401, 'no credentials']],
    ['empty header', ' ', REQUEST, NOW, [401, 'no credentials']],
    ['a bearer token', 'Bearer abc', REQUEST, NOW, [401, 'malformed credentials']],
    ['a short signature', good.slice(0, -2), REQUEST, NOW, [401, 'malformed credentials']],
    ['another key', signRequest(OTHER_KEY, REQUEST, NOW, NONCE), REQUEST, NOW, [403, 'wrong signature']],
    ['sent to pg2, played to pg3', good, { ...REQUEST, to: 'pg3' }, NOW, [403, 'wrong signature']],
    ['body changed', good, { ...REQUEST, body: '{"leader":"pg3"}' }, NOW, [403, 'wrong signature']],
    ['path changed', good, { ...REQUEST, path: '/switchover' }, NOW, [403, 'wrong signature']],
    ['timestamp changed', good.replace(`t=${NOW}`, `t=${NOW + 1}`), REQUEST, NOW, [403, 'wrong signature']],
    ['older than the window', good, REQUEST, NOW + WINDOW + 1, [403, 'outside the time window']],
    ['from further ahead than the window', good, REQUEST, NOW - WINDOW - 1, [403, 'outside the time window']],
  ];
  for (const [what, header, request, now, expected] of cases) {
    const verdict = verifyRequest(KEY, request, header, new ReplayGuard(WINDOW), now);
    assert.deepEqual(verdict, expected === true ? { ok: true } : { ok: false, status: expected[0], cause: expected[1] }, what);
  }
});

test('peer auth: a request played again within the window is refused; fresh ones are not', () => {
  const guard = new ReplayGuard(WINDOW);
  const first = signRequest(KEY, REQUEST, NOW);
  assert.deepEqual(verifyRequest(KEY, REQUEST, first, guard, NOW), { ok: true });
  assert.deepEqual(verifyRequest(KEY, REQUEST, first, guard, NOW + 500), { ok: false, status: 403, cause: 'replayed' });
  assert.deepEqual(verifyRequest(KEY, REQUEST, signRequest(KEY, REQUEST, NOW + 600), guard, NOW + 600), { ok: true });
  // Once out of the window the nonce is forgotten, and the window itself refuses the request.
  assert.deepEqual(verifyRequest(KEY, REQUEST, first, guard, NOW + WINDOW + 1), { ok: false, status: 403, cause: 'outside the time window' });
});
