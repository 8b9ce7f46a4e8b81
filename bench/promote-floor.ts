import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { PgBinaries } from '../src/pg/binaries.js';
import type { OsUser } from '../src/pg/os-user.js';
import { freePort, killServers, ROOT, run, scratch } from './util.js';

const RAW = join(ROOT, 'bench/raw-bootstrap.sh');

/** Retries an INSERT on host:port until one commits; returns when it did. */
export async function firstWrite(port: number, password: string, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('CREATE TABLE IF NOT EXISTS floor_probe (id int); INSERT INTO floor_probe VALUES (1)');
      return;
    } catch {
      /* still in recovery or not up */
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  throw new Error(`no write accepted on port ${port} within ${deadlineMs} ms`);
}

/**
 * The failover floor: on a raw primary + caught-up replica, `pg_ctl promote -w` and then INSERTs
 * until one commits. Nothing any tool adds can beat this; it excludes failure detection.
 */
export async function promoteFloorOnce(user: OsUser, bin: PgBinaries): Promise<number> {
  const work = await scratch(user);
  const port = await freePort();
  try {
    await run('bash', [RAW, work, String(port), bin.bindir], user);
    const started = process.hrtime.bigint();
    await run(bin.path('pg_ctl'), ['promote', '-w', '-D', join(work, 'replica')], user);
    await firstWrite(port + 1, 'superpw');
    return Number(process.hrtime.bigint() - started) / 1e9;
  } finally {
    await killServers([join(work, 'replica'), join(work, 'primary')]);
    await rm(work, { recursive: true, force: true });
  }
}
