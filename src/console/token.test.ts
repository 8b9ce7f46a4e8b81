import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerMatches, newToken } from './token.js';

test('tokens are fresh and URL-safe', () => {
  const a = newToken();
  assert.match(a, /^[A-Za-z0-9_-]{32}$/);
  assert.notEqual(a, newToken());
});

for (const [header, expected] of [
  ['Bearer s3cret', true], ['bearer s3cret', true], ['Bearer s3cret ', true],
  [undefined, false], ['', false], ['Bearer', false], ['Bearer wrong', false], ['Bearer s3cre', false], ['Basic s3cret', false], ['Bearer s3cret x', false],
] as const) {
  test(`bearerMatches(${JSON.stringify(header)}) is ${expected}`, () => assert.equal(bearerMatches(header, 's3cret'), expected));
}
