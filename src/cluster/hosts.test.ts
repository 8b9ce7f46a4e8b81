import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { hostsForNewNodes } from './create.js';

test('--host: one address for all new nodes, or one per node in order', () => {
  const cases: Array<[string[] | undefined, number, string[]]> = [
    [undefined, 3, ['127.0.0.1', '127.0.0.1', '127.0.0.1']],
    [['10.0.0.5'], 2, ['10.0.0.5', '10.0.0.5']],
    [['10.0.0.1', '10.0.0.2', 'db3.example.com'], 3, ['10.0.0.1', '10.0.0.2', 'db3.example.com']],
    [['::1', 'fd00::2'], 2, ['::1', 'fd00::2']],
  ];
  for (const [hosts, count, expected] of cases) assert.deepEqual(hostsForNewNodes(hosts, count), expected, String(hosts));
});

test('--host: networks, spaces, zones, empty entries and a wrong count are refused by name', () => {
  const cases: Array<[string[], number, RegExp]> = [
    [['10.0.0.0/8'], 1, /'10\.0\.0\.0\/8' is not an IP address or a DNS host name/],
    [['10.0.0.1', ''], 2, /'' is not/],
    [['db 1'], 1, /'db 1' is not/],
    [['fe80::1%eth0'], 1, /is not/],
    [['10.0.0.1', '10.0.0.2'], 3, /2 addresses given for 3 new nodes/],
  ];
  for (const [hosts, count, pattern] of cases) {
    assert.throws(() => hostsForNewNodes(hosts, count), (e: unknown) => e instanceof UsageError && pattern.test(e.message), String(hosts));
  }
});
