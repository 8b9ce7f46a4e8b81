import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import { findFreePorts, isPortTaken } from '../util/ports.js';
import { choosePorts, hostsForNewNodes } from './create.js';
import { PortInUseError } from './errors.js';

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

test('--host: ports are checked on the address the servers will bind, not on 127.0.0.1', async (t) => {
  const blocker = createServer().listen({ port: 0, host: '127.0.0.2', exclusive: true });
  t.after(() => blocker.close());
  await once(blocker, 'listening');
  const port = (blocker.address() as AddressInfo).port;
  await assert.rejects(choosePorts(1, port, new Set(), ['127.0.0.2']), (e: unknown) => e instanceof PortInUseError && e.message === `port ${port} is already in use on 127.0.0.2`);
  await assert.rejects(choosePorts(2, port - 1, new Set(), ['127.0.0.3', '127.0.0.2']), /already in use on 127\.0\.0\.2/, 'one address per node: each is checked');
  assert.deepEqual(await choosePorts(1, port, new Set(), ['127.0.0.3']), [port], 'free on another address');
  assert.notDeepEqual(await findFreePorts(1, port, new Set(), ['127.0.0.2']), [port], 'an automatic choice skips it');
  // An address this machine does not have cannot be checked from here: not reported as taken.
  assert.equal(await isPortTaken(port, '192.0.2.1'), false);
});
