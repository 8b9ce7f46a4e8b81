import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { validateComposeOptions } from './options.js';

test('defaults: one asynchronous replica on postgres 17, published on loopback', () => {
  const o = validateComposeOptions({});
  assert.deepEqual([o.replicas, o.sync, o.pgVersion, o.bind, o.port, o.pgadmin, o.subnet], [1, 0, 17, '127.0.0.1', 5432, false, undefined]);
});

for (const [flags, message] of [
  [{ replicas: '0' }, /--replicas must be a whole number from 1 to 32 \(got '0'\)/],
  [{ replicas: '1000' }, /--replicas must be a whole number from 1 to 32/],
  [{ replicas: 'two' }, /--replicas must be a whole number/],
  [{ replicas: '2', sync: '3' }, /--sync 3 is more than --replicas 2/],
  [{ pgVersion: '12' }, /--pg-version must be a whole number from 13 to 18/],
  [{ pgVersion: '19' }, /--pg-version must be a whole number from 13 to 18/],
  [{ bind: 'localhost:5' }, /--bind must be an IP address/],
  [{ subnet: '10.0.0.1/24' }, /host bits set/],
  [{ subnet: '10.0.0.0' }, /--subnet must be an IPv4 network/],
  [{ subnet: '10.0.0.0/30', replicas: '2' }, /--subnet must be an IPv4 network|too few addresses/],
  [{ subnet: '10.0.0.0/29', replicas: '5' }, /too few addresses for 6 services/],
  [{ pgadmin: true, pgadminPort: '5432' }, /--pgadmin-port 5432 is one of the nodes' ports \(5432-5433\)/],
  [{ pgadmin: true, replicas: '3', port: '6000', pgadminPort: '6003' }, /--pgadmin-port 6003 is one of the nodes' ports \(6000-6003\)/],
  [{ replicas: '3', port: '65533' }, /--port must be a whole number from 1 to 65532/],
] as const) {
  test(`refuses ${JSON.stringify(flags)} with a usage error and a hint`, () => {
    assert.throws(() => validateComposeOptions(flags), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.match(error.message, message);
      assert.ok(error.hint, 'no hint');
      return true;
    });
  });
}
