import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseEnvFile } from './env-file.js';
import { writeComposeProject } from './project.js';
import { optionsFor } from './test-support.js';

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pgrepl-compose-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

test('writes the project: .env 0600 with every secret, scripts executable, servers.json with pgAdmin', async (t) => {
  const out = join(await tempDir(t), 'project');
  const result = await writeComposeProject(optionsFor({ output: out, replicas: '2', pgadmin: true }));
  assert.deepEqual(result.services, ['primary', 'replica1', 'replica2', 'pgadmin']);
  assert.deepEqual([...result.files].sort(), ['.env', '.gitignore', 'README.md', 'docker-compose.yml', 'primary-init.sh', 'replica-entrypoint.sh', 'servers.json']);
  assert.deepEqual((await readdir(out)).sort(), [...result.files].sort());
  assert.equal(await mode(join(out, '.env')), 0o600);
  assert.equal(await mode(join(out, 'primary-init.sh')), 0o755);
  assert.equal(await mode(join(out, 'replica-entrypoint.sh')), 0o755);
  assert.equal(await mode(join(out, 'docker-compose.yml')), 0o644);
  const env = parseEnvFile(await readFile(join(out, '.env'), 'utf8'));
  assert.deepEqual(Object.keys(env).sort(), ['PGADMIN_PASSWORD', 'POSTGRES_PASSWORD', 'REPLICATION_PASSWORD', 'REPLICATION_PASSWORD_SCRAM']);
  assert.match(env.REPLICATION_PASSWORD_SCRAM!, /^SCRAM-SHA-256\$4096:/);
  const servers = JSON.parse(await readFile(join(out, 'servers.json'), 'utf8')) as { Servers: Record<string, { Host: string; Password?: string }> };
  assert.deepEqual(Object.values(servers.Servers).map((s) => s.Host), ['primary', 'replica1', 'replica2']);
  assert.ok(Object.values(servers.Servers).every((s) => s.Password === undefined));
  const readme = await readFile(join(out, 'README.md'), 'utf8');
  for (const words of ['docker compose up -d', 'pg_stat_replication', 'pg_promote()', 'docker compose down -v']) assert.ok(readme.includes(words), words);
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
