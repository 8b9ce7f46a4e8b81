import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemdArg, systemdUnit } from './systemd-unit.js';

const CASES: Array<[string, string]> = [
  ['/var/lib/pgrepl/main', '/var/lib/pgrepl/main'],
  ['etcd://10.0.0.1:2379,10.0.0.2:2379', 'etcd://10.0.0.1:2379,10.0.0.2:2379'],
  ['/srv/my cluster', '"/srv/my cluster"'],
  ['/srv/50%off', '/srv/50%%off'],
  ['/srv/$HOME', '"/srv/$$HOME"'],
  ["/srv/it's", '"/srv/it\'s"'],
  ['/srv/a"b\\c', '"/srv/a\\"b\\\\c"'],
];

for (const [word, expected] of CASES) {
  test(`systemdArg(${JSON.stringify(word)}) is ${expected}`, () => assert.equal(systemdArg(word), expected));
}

test('a control character (a newline would start a unit line of its own) is refused', () => {
  assert.throws(() => systemdArg('/srv/x\nExecStartPre=/bin/rm -rf /'), /control character/);
});

test('the unit runs the agent of the node, every word of ExecStart spelled for systemd', () => {
  const unit = systemdUnit({ node: '/usr/bin/node', script: '/opt/pgrepl/dist/pgrepl.cjs' }, '/srv/my cluster', 'pg2', 'etcd://127.0.0.1:2379');
  const exec = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  assert.equal(exec, 'ExecStart=/usr/bin/node /opt/pgrepl/dist/pgrepl.cjs agent --node pg2 --dir "/srv/my cluster" --dcs etcd://127.0.0.1:2379');
  assert.match(unit, /^KillMode=process$/m);
});
