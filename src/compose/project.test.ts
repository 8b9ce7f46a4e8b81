import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { writeComposeProject } from './project.js';
import { optionsFor } from './test-support.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-compose-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('writes the project: secrets/ 0700 with 0600 files, scripts executable, state/primary = pg1, servers.json with pgAdmin', async (t) => {
  const out = join(await tempDir(t), 'project');
  const result = await writeComposeProject(optionsFor({ output: out, replicas: '2', pgadmin: true }));
  assert.deepEqual(result.services, ['pg1', 'pg2', 'pg3', 'pgadmin']);
  assert.deepEqual([...result.files].sort(), ['.gitignore', 'README.md', 'docker-compose.yml', 'pgrepl-init.sh', 'pgrepl-node.sh',
    'secrets/pgadmin_password', 'secrets/postgres_password', 'secrets/replication_password', 'secrets/replication_password_scram', 'servers.json', 'state/primary']);
  assert.deepEqual((await readdir(out)).sort(), ['.gitignore', 'README.md', 'docker-compose.yml', 'pgrepl-init.sh', 'pgrepl-node.sh', 'secrets', 'servers.json', 'state']);
  assert.equal(await mode(join(out, 'secrets')), 0o700);
  for (const name of ['postgres_password', 'replication_password', 'replication_password_scram']) assert.equal(await mode(join(out, 'secrets', name)), 0o600, name);
  assert.equal(await mode(join(out, 'secrets', 'pgadmin_password')), 0o644, 'pgAdmin reads it as uid 5050');
  assert.equal(await mode(join(out, 'pgrepl-node.sh')), 0o755);
  assert.equal(await mode(join(out, 'docker-compose.yml')), 0o644);
  assert.equal(await readFile(join(out, 'state', 'primary'), 'utf8'), 'pg1\n');
  assert.equal(await readFile(join(out, '.gitignore'), 'utf8'), 'secrets/\n');
  assert.match(await readFile(join(out, 'secrets', 'replication_password_scram'), 'utf8'), /^SCRAM-SHA-256\$4096:/);
  const servers = JSON.parse(await readFile(join(out, 'servers.json'), 'utf8')) as { Servers: Record<string, { Host: string; Password?: string }> };
  assert.deepEqual(Object.values(servers.Servers).map((s) => s.Host), ['pg1', 'pg2', 'pg3']);
  assert.ok(Object.values(servers.Servers).every((s) => s.Password === undefined));
  const readme = await readFile(join(out, 'README.md'), 'utf8');
  for (const words of ['docker compose up -d', 'pgrepl compose failover', 'pgrepl compose rejoin pg1', 'target_session_attrs=read-write', 'docker compose down -v', '--port']) {
    assert.ok(readme.includes(words), words);
  }
});

test('an existing empty directory is fine; a non-empty one is refused and left untouched', async (t) => {
  const parent = await tempDir(t);
  const empty = join(parent, 'empty');
  await mkdir(empty);
  await writeComposeProject(optionsFor({ output: empty }));
  const full = join(parent, 'full');
  await mkdir(full);
  await writeFile(join(full, 'mine.txt'), 'keep me');
  await assert.rejects(writeComposeProject(optionsFor({ output: full })), (error: unknown) => error instanceof UsageError && /not empty/.test(error.message));
  assert.deepEqual(await readdir(full), ['mine.txt']);
  const file = join(parent, 'file');
  await writeFile(file, '');
  await assert.rejects(writeComposeProject(optionsFor({ output: file })), /is a file/);
});
