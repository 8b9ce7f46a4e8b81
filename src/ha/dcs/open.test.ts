import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DcsConfigError } from './dcs.js';
import { parseDcsUrl, type DcsLocation } from './open.js';

const good: [string | undefined, DcsLocation][] = [
  [undefined, { kind: 'local' }],
  ['local', { kind: 'local' }],
  ['local:', { kind: 'local' }],
  ['etcd://h1:2379', { kind: 'etcd', endpoints: [{ host: 'h1', port: 2379 }] }],
  ['etcd://h1', { kind: 'etcd', endpoints: [{ host: 'h1', port: 2379 }] }],
  ['etcd://10.0.0.1:2379,10.0.0.2:32379/', { kind: 'etcd', endpoints: [{ host: '10.0.0.1', port: 2379 }, { host: '10.0.0.2', port: 32379 }] }],
  ['ETCD://[::1]:2379, db-2.example.com:2379', { kind: 'etcd', endpoints: [{ host: '::1', port: 2379 }, { host: 'db-2.example.com', port: 2379 }] }],
];

const bad: [string, string][] = [
  ['zk://h1:2181', 'unsupported DCS "zk"'],
  ['h1:2379', 'not a DCS URL'],
  ['etcd://', 'no endpoint given'],
  ['etcd://h1:2379,', 'an empty endpoint (a stray comma?)'],
  ['etcd://h1:0', 'port 0 of "h1:0" is not between 1 and 65535'],
  ['etcd://h1:70000', 'port 70000 of "h1:70000" is not between 1 and 65535'],
  ['etcd://h1:abc', '"h1:abc" is not HOST[:PORT]'],
  ['etcd://h_1:2379', '"h_1:2379" is not HOST[:PORT]'],
  ['etcd://user:pw@h1:2379', 'paths, queries and credentials are not supported'],
  ['etcd://h1:2379/pgrepl', 'paths, queries and credentials are not supported'],
];

for (const [url, expected] of good) {
  test(`parseDcsUrl(${String(url)})`, () => assert.deepEqual(parseDcsUrl(url), expected));
}

for (const [url, problem] of bad) {
  test(`parseDcsUrl(${url}) is refused`, () => {
    assert.throws(
      () => parseDcsUrl(url),
      (error: unknown) => error instanceof DcsConfigError && error.message.includes(problem) && !error.message.includes('\n') && error.exitCode === 2,
    );
  });
}
