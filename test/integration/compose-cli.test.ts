import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertOneLineError, pgrepl, pgreplJson } from './fixture.js';

async function tempParent(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-compose-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('pgrepl compose --json writes the project and names its files and services', async (t) => {
  const out = join(await tempParent(t), 'project');
  const result = await pgreplJson<{ dir: string; files: string[]; services: string[]; pgVersion: number; ports: Record<string, number> }>(['compose', '-o', out, '--replicas', '2', '--pgadmin']);
  assert.equal(result.dir, out);
  assert.deepEqual(result.services, ['pg1', 'pg2', 'pg3', 'pgadmin']);
  assert.equal(result.pgVersion, 17);
  assert.deepEqual((await readdir(out)).sort(), [...new Set(result.files.map((f) => f.split('/')[0]!))].sort());
  assert.deepEqual(result.ports, { pg1: 5432, pg2: 5433, pg3: 5434 });
  assert.equal((await stat(join(out, 'secrets', 'postgres_password'))).mode & 0o777, 0o600);
});

for (const [args, pattern, hint] of [
  [['--replicas', '0'], /--replicas must be a whole number from 1 to 32 \(got '0'\)/, /at least one replica/],
  [['--replicas', '500'], /--replicas must be a whole number from 1 to 32/, /full copy/],
  [['--replicas', '2', '--sync', '3'], /--sync 3 is more than --replicas 2: commits on the primary would wait forever/, /--sync 0 to 2/],
  [['--pg-version', '12'], /--pg-version must be a whole number from 13 to 18 \(got '12'\)/, /--pg-version 17/],
  [['--pg-version', '19'], /--pg-version must be a whole number from 13 to 18/, /--pg-version 17/],
  [['--bind', 'everywhere'], /--bind must be an IP address/, /127\.0\.0\.1/],
  [['--dir', '/tmp/x'], /--dir names a local cluster/, /-o DIR/],
] as const) {
  test(`pgrepl compose ${args.join(' ')}: one-line usage error with a hint, nothing written`, async (t) => {
    const out = join(await tempParent(t), 'project');
    const result = await pgrepl(['compose', '-o', out, ...args]);
    assert.equal(result.code, 2);
    assertOneLineError(result, pattern);
    assert.match(result.stderr, new RegExp(`hint: .*${hint.source}`));
    await assert.rejects(stat(out), 'the output directory was created');
  });
}

test('pgrepl compose refuses a non-empty output directory and touches nothing in it', async (t) => {
  const out = join(await tempParent(t), 'project');
  await mkdir(out);
  await writeFile(join(out, 'docker-compose.yml'), 'mine');
  const result = await pgrepl(['compose', '-o', out]);
  assert.equal(result.code, 2);
  assertOneLineError(result, /exists and is not empty/);
  assert.deepEqual(await readdir(out), ['docker-compose.yml']);
});
